-- adding to the string module through _G
-- expect strict,lax,sandbox: 500 Cannot modify string.x. Protected by the sandbox.
-- expect on: 200 changed
_G.string.x = 1
return kong.response.exit(200, "changed")
