-- smoke: common string operations
local s = "Hello, World"
print(s:len(), #s, s:upper(), s:lower(), s:reverse())
print(s:sub(1, 5), s:sub(-5), s:sub(8, 100), s:sub(0), s:sub(5, 2))
print(s:find("o"), s:find("o", 6), s:find("xyz"), s:find("o, W", 1, true))
print(s:match("(%a+), (%a+)"))
print(string.byte("ABC"), string.byte("ABC", 2, 3), string.char(72, 105))
print(("x"):rep(3), ("ab"):rep(3, "-"), ("x"):rep(0))
for w in s:gmatch("%a+") do print(w) end
print(s:gsub("o", "0"), s:gsub("%w+", "<%0>"), s:gsub("(%w+), (%w+)", "%2 %1"))
print(string.format("%5d|%-5s|%.3f|%x|%q", 42, "ab", 1/3, 255, "a\nb"))
print(pcall(string.rep))
print(pcall(string.find, "x", "%"))
print(pcall(string.format, "%y", 1))
print(select("#", s:byte(1, -1)))
print(tostring(10/2), tostring(1e15), 2^53, 1/3, -0.0)
