-- getfenv (LuaJIT's environment access; not provided in any mode)
-- expect all: 500 attempt to call
local env = getfenv(1)
return kong.response.exit(200, type(env))
