-- numbers print as LuaJIT prints them (6)
print(1e100, tostring(1e100))
print(1e-5, tostring(1e-5))
