-- split CSV lines with empty fields (input 2)
local function fields(line)
  local out = {}
  for f in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = f end
  return out
end
local f = fields("a,,c") print(#f, table.concat(f, '|'))
