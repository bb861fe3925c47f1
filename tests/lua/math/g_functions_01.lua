-- math library results print as LuaJIT's (1)
print(math.floor(3.7), math.floor(-3.7), math.ceil(3.2), math.ceil(-3.2))
print(math.abs(-5), math.abs(5.5), math.abs(-0.0))
