-- string.gmatch iteration with and without captures (1)
do local out = {} for a, b in string.gmatch("one two three", "%a+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("a=1, b=2, c=3", "(%w+)=(%w+)") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
