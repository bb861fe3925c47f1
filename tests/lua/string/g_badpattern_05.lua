-- malformed patterns raise Lua's errors (5)
print(pcall(string.find, 'x', "a)"))
print(pcall(string.find, 'x', "((a)"))
