-- malformed patterns raise Lua's errors (1)
print(pcall(string.find, 'x', "%"))
print(pcall(string.find, 'x', "[a"))
