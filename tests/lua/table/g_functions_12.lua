-- table library behaviour (12)
local t = {} for i = 1, 100 do t[i] = (i * 37) % 101 end table.sort(t) print(t[1], t[50], t[100])
local t = {} for i = 1, 50 do t[i] = {k = (i * 7) % 50, v = i} end table.sort(t, function(a, b) return a.k < b.k end) print(t[1].k, t[25].k, t[50].k)
