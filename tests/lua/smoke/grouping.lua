print((string.gsub('a', 'a', 'b')))
local s = 'a'
print((s:gsub('a', 'b')))
local function f() return (s:gsub('a', 'b')) end
print(f())
local function g() return 1, 2 end
print((g()))
