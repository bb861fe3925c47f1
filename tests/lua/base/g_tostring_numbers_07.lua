-- numbers print as LuaJIT prints them (7)
print(123456789012, tostring(123456789012))
print(12345678901234, tostring(12345678901234))
