-- numbers print as LuaJIT prints them (4)
print(1/3, tostring(1/3))
print(-0.0, tostring(-0.0))
