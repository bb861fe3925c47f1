-- string.rep through a method call on a string
-- expect strict,lax,on: 200 xxx
-- expect sandbox: 500 attempt to call method 'rep'
return kong.response.exit(200, ("x"):rep(3))
