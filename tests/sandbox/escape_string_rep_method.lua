-- string.rep through a method call on a string
-- expect all: 200 xxx
return kong.response.exit(200, ("x"):rep(3))
