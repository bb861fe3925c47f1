-- the debug library (not provided in any mode)
-- expect all: 500 attempt to index
local r = debug.getregistry()
return kong.response.exit(200, type(r))
