-- numbers print as LuaJIT prints them (2)
print(1e14, tostring(1e14))
print(2^53, tostring(2^53))
