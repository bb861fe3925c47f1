-- malformed patterns raise Lua's errors (9)
print(pcall(string.gsub, 'abc', "[b", 'x'))
print(pcall(function() return string.find('abc', '%') end))
