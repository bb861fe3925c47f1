-- loadstring of text
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 2
local f = loadstring("return 1 + 1")
return kong.response.exit(200, tostring(f()))
