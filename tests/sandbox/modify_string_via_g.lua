-- adding to the string module through _G
-- (in lax/sandbox `_G` is Kong's environment table, which has no string)
-- expect strict: 500 Cannot modify _G.string.x. Protected by the sandbox.
-- expect lax,sandbox: 500 attempt to index
-- expect on: 200 changed
_G.string.x = 1
return kong.response.exit(200, "changed")
