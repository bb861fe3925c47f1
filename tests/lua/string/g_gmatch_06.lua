-- string.gmatch iteration with and without captures (6)
do local out = {} for a, b in string.gmatch("", "x") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("aaa", "a*") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
