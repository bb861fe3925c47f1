-- math library results print as LuaJIT's (14)
print(math.floor(-0.5), math.ceil(-0.5))
print((0/0) ~= (0/0), type(math.huge))
