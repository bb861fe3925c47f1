-- split a comma-separated header into trimmed tokens (input 5)
local function split(value)
  local out = {}
  for token in string.gmatch(value, "[^,]+") do
    out[#out + 1] = token:match("^%s*(.-)%s*$")
  end
  return out
end
local t = split("x;q=0.5, y;q=1") print(#t, table.concat(t, '|'))
