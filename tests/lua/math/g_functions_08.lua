-- math library results print as LuaJIT's (8)
print(math.atan2(1, 1), math.atan2(-1, -1), math.atan2(0, -1))
print(math.sinh(1), math.cosh(1), math.tanh(1))
