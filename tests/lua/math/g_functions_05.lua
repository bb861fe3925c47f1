-- math library results print as LuaJIT's (5)
print(math.exp(0), math.exp(1))
print(math.log(1), math.log(math.exp(2)))
