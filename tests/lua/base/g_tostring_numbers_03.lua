-- numbers print as LuaJIT prints them (3)
print(2^63, tostring(2^63))
print(-2^63, tostring(-2^63))
