-- resty.xmodem (Kong's resty-redis-cluster, lib/resty/xmodem.lua): Redis Cluster's key
-- hash, CRC-16/XMODEM (poly 0x1021, init 0, no reflection; "123456789" -> 0x31C3).
local band, bxor, lshift, rshift = bit.band, bit.bxor, bit.lshift, bit.rshift
local byte = string.byte

local TABLE = {}
for i = 0, 255 do
  local crc = lshift(i, 8)
  for _ = 1, 8 do
    if band(crc, 0x8000) ~= 0 then
      crc = bxor(band(lshift(crc, 1), 0xffff), 0x1021)
    else
      crc = band(lshift(crc, 1), 0xffff)
    end
  end
  TABLE[i] = crc
end

local function crc16(str)
  str = tostring(str)
  local crc = 0
  for i = 1, #str do
    crc = bxor(band(lshift(crc, 8), 0xffff), TABLE[band(bxor(rshift(crc, 8), byte(str, i)), 0xff)])
  end
  return crc
end

-- The key's slot: the CRC masked to 14 bits (no hash-tag handling, as the original).
return {
  redis_crc = function(str)
    return band(crc16(str), 0x3fff)
  end,
}
