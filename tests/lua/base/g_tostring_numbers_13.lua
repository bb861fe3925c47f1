-- numbers print as LuaJIT prints them (13)
print(1e21, tostring(1e21))
print(5e-324, tostring(5e-324))
