-- math library results print as LuaJIT's (17)
print(math.sqrt('16'), math.floor('3.5'))
print(3 == 3.0, 1/0 == math.huge)
