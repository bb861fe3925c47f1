-- math library results print as LuaJIT's (18)
print(-(2^53), 2^53 + 1 - 2^53)
print(string.format('%.10f', math.pi))
