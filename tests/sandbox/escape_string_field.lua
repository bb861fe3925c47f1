-- string.rep as a field of a string value, `("").rep`: LuaJIT's string metatable has `__index = string` (the real library, lj_lib.c / Lua 5.1 manual §2.8), which Kong's sandbox (kong/tools/sandbox/) leaves alone, so every mode reads it (piccolo patch 13)
-- expect all: 200 xxx
local rep = ("").rep
return kong.response.exit(200, rep("x", 3))
