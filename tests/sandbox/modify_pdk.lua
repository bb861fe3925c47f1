-- replacing a PDK function
-- (lax/sandbox: Kong's backward-compatible kong is writable; here the chunk's own copy)
-- expect strict: 500 Cannot modify _G.kong.response.exit. Protected by the sandbox.
-- expect lax,sandbox,on: 200 changed
local exit = kong.response.exit
kong.response.exit = function() end
return exit(200, "changed")
