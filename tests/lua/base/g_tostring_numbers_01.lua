-- numbers print as LuaJIT prints them (1)
print(10/2, tostring(10/2))
print(1e15, tostring(1e15))
