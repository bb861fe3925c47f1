-- changing a function of the string module
-- expect strict,lax,sandbox: 500 Cannot modify _G.string.upper. Protected by the sandbox.
-- expect on: 200 changed
string.upper = function() return "pwned" end
return kong.response.exit(200, "changed")
