local t = {}
for i = 1, 10 do t[#t+1] = string.format("%5.2f", i / 3) end
local s = table.concat(t, ",")
local a, b = s:find("(%d+)%.(%d)")
return function() return s:gsub("%s", "") end
