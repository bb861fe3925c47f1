-- numbers print as LuaJIT prints them (9)
print(3.0, tostring(3.0))
print(-1.5, tostring(-1.5))
