-- string.gmatch iteration with and without captures (4)
do local out = {} for a, b in string.gmatch("hello world from lua", "%f[%w]%w+") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
do local out = {} for a, b in string.gmatch("(a)(bb)(ccc)", "%b()") do out[#out + 1] = tostring(a) .. (b and (':' .. tostring(b)) or '') end print(#out, table.concat(out, '|')) end
