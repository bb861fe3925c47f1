-- math library results print as LuaJIT's (7)
print(math.sin(0), math.cos(0), math.tan(0))
print(math.asin(1), math.acos(1), math.atan(1))
