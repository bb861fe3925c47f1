-- table library behaviour (21)
local t = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 10) end}) t.x = 5 print(t.x)
local t = setmetatable({}, {__len = function() return 42 end}) print(#t >= 0)
