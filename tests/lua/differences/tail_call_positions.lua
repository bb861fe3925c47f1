-- a tail call to a library function: piccolo keeps the calling line, LuaJIT does not
print(pcall(function() return string.rep() end))
print(pcall(function() local s = "x" return s:nosuch() end))
