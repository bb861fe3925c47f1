-- malformed patterns raise Lua's errors (7)
print(pcall(string.match, 'abc', "%"))
print(pcall(string.match, 'abc', "["))
