-- malformed patterns raise Lua's errors (8)
print(pcall(string.match, 'abc', "(()"))
print(pcall(string.gsub, 'abc', "%", 'x'))
