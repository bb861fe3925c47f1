-- table library behaviour (20)
local t = {1, 2, 3} for i, v in ipairs(t) do if i == 2 then break end print(i, v) end
local t = setmetatable({}, {__index = function(t, k) return k * 2 end}) print(t[21], rawget(t, 21))
