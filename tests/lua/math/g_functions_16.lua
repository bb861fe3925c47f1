-- math library results print as LuaJIT's (16)
print(pcall(math.floor), pcall(math.max))
print(pcall(math.sqrt, 'x'))
