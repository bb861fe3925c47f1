-- `..` formats numbers as LuaJIT does (%.14g), through the concat rewrite
print("x" .. 1 / 3)
print("x" .. 2 ^ 53)
print("x" .. 1e15)
print(tostring(1 / 3), tostring(2 ^ 53), tostring(1e15))
