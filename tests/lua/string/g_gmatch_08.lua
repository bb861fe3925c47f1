-- string.gmatch iteration with and without captures (8)
do local out = {} for a, b in string.gmatch("1,2,3,4,5", "%d") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("abc", "()") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
