-- load reached through pcall
-- expect strict,lax,sandbox: 200 false
-- expect on: 200 true
local ok = pcall(load, "return 1")
return kong.response.exit(200, tostring(ok))
