-- malformed patterns raise Lua's errors (4)
print(pcall(string.find, 'x', "%1"))
print(pcall(string.find, 'x', "(a)%2"))
