-- math library results print as LuaJIT's (2)
print(math.sqrt(16), math.sqrt(2), math.sqrt(0))
print(math.max(1, 5, 3), math.max(-1), math.max(2.5, 2))
