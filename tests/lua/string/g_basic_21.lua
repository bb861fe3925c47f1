-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (21)
local s = 'method' print(s:sub(2, 3), s:byte(1), s:find('th'), s:match('%a+'), s:rep(2))
print(('%d items'):format(3), ('x'):rep(2, '|'), ('a,b'):gsub(',', ';'))
