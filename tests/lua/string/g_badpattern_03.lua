-- malformed patterns raise Lua's errors (3)
print(pcall(string.find, 'x', "%f"))
print(pcall(string.find, 'x', "%fx"))
