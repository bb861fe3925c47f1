-- math library results print as LuaJIT's (6)
print(math.log10(1000), math.log10(2))
print(math.pow(2, 10), math.pow(2, 0.5))
