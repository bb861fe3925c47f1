-- os.date: outside the documents' sandbox, inside Kong's code's (environment/lua.lua)
-- expect all: 200 1970
return kong.response.exit(200, os.date("!%Y", 0))
