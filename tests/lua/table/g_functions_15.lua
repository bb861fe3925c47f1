-- table library behaviour (15)
local t = {3, 1, 2} print(pcall(table.sort, t, function(a, b) return a.x < b.x end) == false)
print(pcall(string.rep, {}, 2)) print(pcall(string.sub))
