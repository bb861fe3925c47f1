-- LuaJIT converts strings with surrounding spaces in arithmetic; piccolo does not
print(pcall(function() return ' 5 ' * 2 end))
