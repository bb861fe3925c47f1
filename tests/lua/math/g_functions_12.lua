-- math library results print as LuaJIT's (12)
print(1e300 * 1e300, -1e300 * 1e300)
print(math.floor(2^31 + 0.5), math.floor(-2^31 - 0.5))
