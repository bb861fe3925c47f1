-- string.rep, called directly
-- (environment/lua.lua has string.rep in every restricted mode; the string limit bounds it)
-- expect all: 200 xxx
return kong.response.exit(200, string.rep("x", 3))
