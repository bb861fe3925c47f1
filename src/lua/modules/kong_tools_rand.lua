-- kong.tools.rand, as Kong 3.10's kong/tools/rand.lua: get_rand_bytes(n, urandom) (both
-- sources are WASI random_get here; nil and Kong's message when the host refuses) and
-- random_string (24 random bytes in base64, '/' and '+' replaced by random letters: 32
-- characters).
local _, native = ...
local random_bytes = native.random_bytes
local byte, char = string.byte, string.char
local rand = math.random
local encode_base64 = ngx.encode_base64
local concat = table.concat

local M = {}

local function get_rand_bytes(n_bytes, urandom)
  local bytes = random_bytes(n_bytes)
  if not bytes then
    return nil, "could not get random bytes (reason:random_get failed) "
  end
  return bytes
end
M.get_rand_bytes = get_rand_bytes

local SLASH_BYTE, PLUS_BYTE = byte("/"), byte("+")

function M.random_string()
  local str = encode_base64(get_rand_bytes(24, true), true)
  local out = {}
  for i = 1, 32 do
    local b = byte(str, i)
    if b == SLASH_BYTE then
      out[i] = char(rand(65, 90))  -- A-Z
    elseif b == PLUS_BYTE then
      out[i] = char(rand(97, 122)) -- a-z
    else
      out[i] = char(b)
    end
  end
  return concat(out)
end

return M
