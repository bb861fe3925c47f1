-- check that a value looks like base64 (input 3)
local function is_b64(s)
  return #s % 4 == 0 and s:match("^[%w%+/]*=?=?$") ~= nil
end
print(is_b64("!!!!"))
