-- string.dump (not provided in any mode)
-- expect all: 500 attempt to call
return kong.response.exit(200, string.dump(print))
