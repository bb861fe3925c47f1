-- string.rep found by iterating the string module
-- expect strict,lax,on: 200 found
-- expect sandbox: 200 missing
local found = "missing"
for k in pairs(string) do if k == "rep" then found = "found" end end
return kong.response.exit(200, found)
