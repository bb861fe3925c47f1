-- string.gmatch iteration with and without captures (5)
do local out = {} for a, b in string.gmatch("k1=v1;k2=v2", "([^;=]+)=([^;]*)") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("  spaced   out  ", "%S+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
