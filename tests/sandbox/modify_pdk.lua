-- replacing a PDK function
-- expect strict,lax,sandbox: 500 Cannot modify kong.response.exit. Protected by the sandbox.
-- expect on: 200 changed
local exit = kong.response.exit
kong.response.exit = function() end
return exit(200, "changed")
