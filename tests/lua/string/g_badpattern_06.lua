-- malformed patterns raise Lua's errors (6)
print(pcall(string.find, 'x', "[%"))
print(pcall(string.find, 'x', "[a-"))
