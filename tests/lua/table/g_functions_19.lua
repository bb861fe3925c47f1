-- table library behaviour (19)
local keys = {} for k in pairs({a = 1, b = 2, c = 3}) do keys[#keys + 1] = k end table.sort(keys) print(table.concat(keys, ','))
local n = 0 for _ in pairs({1, 2, 3, x = 1}) do n = n + 1 end print(n)
