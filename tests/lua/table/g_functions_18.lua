-- table library behaviour (18)
local t = {1, 2, 3, nil, 5} print(select('#', unpack(t, 1, 5)))
local t = {10, 20, 30} local s = 0 for i, v in ipairs(t) do s = s + i * v end print(s)
