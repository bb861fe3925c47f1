-- math library results print as LuaJIT's (3)
print(math.min(1, 5, 3), math.min(-1, -2), math.min(0.5))
print(math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -3), math.fmod(5.5, 2))
