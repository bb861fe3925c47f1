-- parse a Cookie header (input 3)
local function cookies(header)
  local jar, names = {}, {}
  for name, value in header:gmatch("([^=;%s]+)=([^;]*)") do
    jar[name] = value
    names[#names + 1] = name
  end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = n .. "->" .. jar[n] end
  return #names, table.concat(out, ",")
end
print(cookies("empty=; x=y"))
