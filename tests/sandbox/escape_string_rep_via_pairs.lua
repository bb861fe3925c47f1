-- string.rep found by iterating the string module
-- expect all: 200 found
local found = "missing"
for k in pairs(string) do if k == "rep" then found = "found" end end
return kong.response.exit(200, found)
