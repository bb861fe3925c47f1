-- string.rep, called directly
-- expect strict,lax,on: 200 xxx
-- expect sandbox: 500 attempt to call
return kong.response.exit(200, string.rep("x", 3))
