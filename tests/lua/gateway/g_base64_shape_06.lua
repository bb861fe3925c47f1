-- check that a value looks like base64 (input 6)
local function is_b64(s)
  return #s % 4 == 0 and s:match("^[%w%+/]*=?=?$") ~= nil
end
print(is_b64("YW=jZA=="))
