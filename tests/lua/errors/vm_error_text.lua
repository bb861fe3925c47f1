-- errors raised by the VM itself: LuaJIT names the variable and the position
print(pcall(function() local t = nil; return t.x end))
print(pcall(function() local f; f() end))
print(pcall(function() return {} + 1 end))
