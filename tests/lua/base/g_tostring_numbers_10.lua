-- numbers print as LuaJIT prints them (10)
print(1e308 * 10, tostring(1e308 * 10))
print(-1e308 * 10, tostring(-1e308 * 10))
