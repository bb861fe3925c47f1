-- hex encoding and decoding of bytes (input 3)
local function tohex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function fromhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
print(tohex(""), fromhex(tohex("")) == "")
