-- string.gmatch iteration with and without captures (3)
do local out = {} for a, b in string.gmatch("x1y22z333", "%d+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("^a^a", "^a") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
