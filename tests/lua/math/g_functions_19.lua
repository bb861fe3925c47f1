-- math library results print as LuaJIT's (19)
print(math.floor(1e15 + 0.5))
