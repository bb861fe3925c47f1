-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (22)
print(pcall(function() local s = 'x' local r = s:nosuch() return r end))
local t = setmetatable({}, {__index = {hello = function(self, n) return 'hi ' .. n end}}) print(t:hello('there'))
