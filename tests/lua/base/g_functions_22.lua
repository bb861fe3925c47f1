-- base library: types, errors, metatables, varargs (22)
local i = 0 repeat i = i + 1 until i >= 3 print(i)
local i = 0 while true do i = i + 1 if i > 4 then break end end print(i)
