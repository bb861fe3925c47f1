-- numbers print as LuaJIT prints them (12)
print(math.pi, tostring(math.pi))
print(-math.pi, tostring(-math.pi))
