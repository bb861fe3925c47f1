-- split CSV lines with empty fields (input 3)
local function fields(line)
  local out = {}
  for f in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = f end
  return out
end
local f = fields(",") print(#f, table.concat(f, '|'))
