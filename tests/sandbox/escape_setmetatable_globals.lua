-- setmetatable on the globals table (in `on` it changes only the chunk's own globals)
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 set
setmetatable(_G, { __index = function() return "leak" end })
return kong.response.exit(200, "set")
