-- numbers print as LuaJIT prints them (5)
print(0.1, tostring(0.1))
print(100, tostring(100))
