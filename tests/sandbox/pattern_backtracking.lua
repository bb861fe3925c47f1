-- the issue's backtracking probe: Lua patterns have no quantified groups, so `(a*)*b` is linear and finds nothing
-- expect all: 200 nil
local s = ""
for _ = 1, 30 do s = s .. "a" end
local r = string.find(s, "(a*)*b")
return kong.response.exit(200, tostring(r))
