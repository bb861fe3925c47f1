-- math library results print as LuaJIT's (11)
print(2^10, 2^0.5, (-2)^2, 2^-1)
print(7 / 2, 6 / 2, 1 / 4, -7 / 2)
