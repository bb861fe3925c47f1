-- replacing table.insert
-- expect strict,lax,sandbox: 500 Cannot modify _G.table.insert. Protected by the sandbox.
-- expect on: 200 changed
table.insert = nil
return kong.response.exit(200, "changed")
