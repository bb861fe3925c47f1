-- math library results print as LuaJIT's (13)
print(math.max(1, 2) == 2, math.min(1, 2) == 1)
print(0.1 + 0.2 == 0.3, math.abs(0.1 + 0.2 - 0.3) < 1e-15)
