-- changing math.pi
-- expect strict,lax,sandbox: 500 Cannot modify _G.math.pi. Protected by the sandbox.
-- expect on: 200 changed
math.pi = 3
return kong.response.exit(200, "changed")
