-- math library results print as LuaJIT's (10)
print(math.huge > 1e308, -math.huge < -1e308)
print(7 % 3, -7 % 3, 7 % -3, -7 % -3, 5.5 % 2)
