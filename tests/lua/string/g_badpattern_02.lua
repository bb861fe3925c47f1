-- malformed patterns raise Lua's errors (2)
print(pcall(string.find, 'x', "(()"))
print(pcall(string.find, 'x', "%b"))
