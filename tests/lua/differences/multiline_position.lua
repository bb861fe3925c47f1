-- a statement over several lines: piccolo reports its first line, LuaJIT the line of the failing operand
local t = {}
print(pcall(function()
  local x = t.a
    .b
end))
print(pcall(function()
  local y = 1 +
    t.z
end))
