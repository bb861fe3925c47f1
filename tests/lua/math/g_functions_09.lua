-- math library results print as LuaJIT's (9)
print(math.deg(math.pi), math.rad(180))
print(math.huge, -math.huge, math.pi)
