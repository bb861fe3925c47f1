-- string.gmatch iteration with and without captures (7)
do local out = {} for a, b in string.gmatch("line1\nline2\nline3", "[^\n]+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("a.b.c", "[^.]+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
