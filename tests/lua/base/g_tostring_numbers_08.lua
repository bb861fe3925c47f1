-- numbers print as LuaJIT prints them (8)
print(123456789012345, tostring(123456789012345))
print(0.1 + 0.2, tostring(0.1 + 0.2))
