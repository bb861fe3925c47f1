-- split a comma-separated header into trimmed tokens (input 1)
local function split(value)
  local out = {}
  for token in string.gmatch(value, "[^,]+") do
    out[#out + 1] = token:match("^%s*(.-)%s*$")
  end
  return out
end
local t = split("gzip, deflate, br") print(#t, table.concat(t, '|'))
