-- math.randomseed
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 ok
math.randomseed(42)
return kong.response.exit(200, "ok")
