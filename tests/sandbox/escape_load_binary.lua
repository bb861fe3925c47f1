-- loading a binary (bytecode) chunk
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 nil attempt to load a binary chunk
local f, err = load("\27LJ\2\0")
return kong.response.exit(200, tostring(f) .. " " .. err)
