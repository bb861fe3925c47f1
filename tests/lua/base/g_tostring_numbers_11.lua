-- numbers print as LuaJIT prints them (11)
print(2^-1074, tostring(2^-1074))
print(255 / 5, tostring(255 / 5))
