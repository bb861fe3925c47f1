-- malformed patterns raise Lua's errors (10)
local ok, e = pcall(function() local r = string.find('abc', '[a') return r end) print(ok, e)
print(pcall(string.find, ('a'):rep(30), '(a*)*b'))
