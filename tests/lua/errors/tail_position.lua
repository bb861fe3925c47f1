-- an operator in a return statement is not a call: its error has the line of the return
local function p(f, ...) print(pcall(f, ...)) end
local function concat(a, b)
  return a .. b
end
local function method(obj)
  return obj:missing()
end
p(concat, "x", nil)
p(method, {})
p(method, nil)
p(function(token)
  local header = "Bearer "
  return header .. token
end)
p(function(s) return s:upper() end, "abc")
p(function(...) return select("#", ...) end, 1, nil, 3)
