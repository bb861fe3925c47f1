-- validate IPv4 addresses and test private ranges (input 1)
local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, o in ipairs({a, b, c, d}) do if tonumber(o) > 255 then return false end end
  a, b = tonumber(a), tonumber(b)
  local private = a == 10 or (a == 172 and b >= 16 and b <= 31) or (a == 192 and b == 168)
  return true, private
end
print(ipv4("192.168.1.10"))
