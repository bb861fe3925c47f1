-- kong.tools.string, as Kong 3.10's kong/tools/string.lua defines its functions.
local stringx = require("pl.stringx")
local decode_base64url = require("ngx.base64").decode_base64url

local type, tostring, tonumber, ipairs = type, tostring, tonumber, ipairs
local byte, sub, find, gsub, lower, fmt = string.byte, string.sub, string.find, string.gsub, string.lower, string.format
local huge = math.huge

local M = {
  join = stringx.join,
  split = stringx.split,
}

-- value split once at the first delimiter: head, tail (tail nil when there is none).
local function split_once(value, pattern, plain)
  if value == nil then
    return nil, nil
  elseif pattern == nil then
    return value, nil
  elseif pattern == "" then
    return "", value
  elseif value == "" then
    return "", nil
  end
  local s, e = find(value, pattern, nil, plain)
  if not s then
    return value, nil
  end
  return sub(value, 1, s - 1), sub(value, e + 1)
end

function M.split_once(value, delim)
  return split_once(value, delim, true)
end

function M.psplit_once(value, pattern)
  return split_once(value, pattern, false)
end

-- value split into at most n parts: the parts and their count.
local function splitn(value, pattern, n, plain)
  local limit = n or huge
  if limit < 1 or value == nil then
    return {}, 0
  elseif limit == 1 or pattern == nil then
    return { value }, 1
  elseif pattern == "" then
    if value == "" then
      return { "", "" }, 2
    end
    local size = #value
    if size == 1 then
      if limit == 2 then
        return { "", value }, 2
      end
      return { "", value, "" }, 3
    end
    size = limit >= size + 2 and size + 2 or limit
    local t = { "" }
    for i = 2, size do
      t[i] = sub(value, i - 1, i < size and i - 1 or nil)
    end
    return t, size
  elseif value == "" then
    return { "" }, 1
  end
  local t, i, p = {}, 1, 1
  while i < limit do
    local s, e = find(value, pattern, p, plain)
    if not s then
      break
    end
    t[i] = sub(value, p, s - 1)
    i = i + 1
    p = e + 1
  end
  t[i] = sub(value, p)
  return t, i
end

function M.splitn(value, delim, n)
  return splitn(value, delim, n, true)
end

function M.psplitn(value, pattern, n)
  return splitn(value, pattern, n, false)
end

local function noop_iter() end
local function once_iter(value, control)
  if value ~= control then
    return value
  end
end
local function list_iter(t)
  local i = t[0] or 1
  t[0] = i + 1
  return t[i]
end

local function iterator(parts, count)
  if count == 0 then
    return noop_iter
  elseif count == 1 then
    return once_iter, parts[1]
  end
  return list_iter, parts
end

function M.isplitn(value, delim, n)
  return iterator(splitn(value, delim, n, true))
end

function M.ipsplitn(value, pattern, n)
  return iterator(splitn(value, pattern, n, false))
end

local function is_space(b)
  return b == 32 or (b >= 9 and b <= 13)
end

-- Space, \t, \n, \v, \f and \r trimmed from both ends; nil gives "".
function M.strip(value)
  if value == nil then
    return ""
  end
  if type(value) ~= "string" then
    value = tostring(value) or ""
  end
  local len = #value
  local s = 1
  while s <= len and is_space(byte(value, s)) do
    s = s + 1
  end
  if s > len then
    return ""
  end
  local e = len
  while is_space(byte(value, e)) do
    e = e - 1
  end
  if s == 1 and e == len then
    return value
  end
  return sub(value, s, e)
end

-- true, or false and the byte position of the first invalid UTF-8 sequence (Unicode
-- 6.2 table 3-7, as Kong's find-based check).
function M.validate_utf8(val)
  local str = tostring(val)
  local i, len = 1, #str
  while i <= len do
    if i == find(str, "[%z\1-\127]", i) then
      i = i + 1
    elseif i == find(str, "[\194-\223][\123-\191]", i) then
      i = i + 2
    elseif i == find(str, "\224[\160-\191][\128-\191]", i)
        or i == find(str, "[\225-\236][\128-\191][\128-\191]", i)
        or i == find(str, "\237[\128-\159][\128-\191]", i)
        or i == find(str, "[\238-\239][\128-\191][\128-\191]", i) then
      i = i + 3
    elseif i == find(str, "\240[\144-\191][\128-\191][\128-\191]", i)
        or i == find(str, "[\241-\243][\128-\191][\128-\191][\128-\191]", i)
        or i == find(str, "\244[\128-\143][\128-\191][\128-\191]", i) then
      i = i + 4
    else
      return false, i
    end
  end
  return true
end

function M.bytes_to_str(bytes, unit, scale)
  local u = lower(unit or "")
  if u == "" or u == "b" then
    return fmt("%d", bytes)
  end
  scale = scale or 2
  if type(scale) ~= "number" or scale < 0 then
    error("scale must be equal or greater than 0", 2)
  end
  local spec = "%." .. scale .. "f"
  if u == "k" then
    return fmt(spec .. " KiB", bytes / 1024)
  elseif u == "m" then
    return fmt(spec .. " MiB", bytes / 1048576)
  elseif u == "g" then
    return fmt(spec .. " GiB", bytes / 1073741824)
  end
  error("invalid unit '" .. unit .. "' (expected 'k/K', 'm/M', or 'g/G')", 2)
end

local SCALES = { k = 1024, K = 1024, m = 1048576, M = 1048576, g = 1073741824, G = 1073741824 }

function M.parse_ngx_size(str)
  assert(type(str) == "string", "Parameter #1 must be a string")
  local len = #str
  local scale = SCALES[sub(str, len)]
  if scale then
    len = len - 1
  else
    scale = 1
  end
  return (tonumber(sub(str, 1, len)) or 0) * scale
end

local function decode_base64_str(str)
  if type(str) ~= "string" then
    return nil, "base64 decoding failed: not a string"
  end
  local decoded = ngx.decode_base64(str) or decode_base64url(str)
  if decoded then
    return decoded
  end
  return nil, "base64 decoding failed: invalid input"
end

-- Decoded base64 (standard, then URL alphabet), or the value as given; a table's
-- elements are decoded in place.
function M.try_decode_base64(value)
  if type(value) == "table" then
    for i, v in ipairs(value) do
      value[i] = decode_base64_str(v) or v
    end
    return value
  end
  if type(value) == "string" then
    return decode_base64_str(value) or value
  end
  return value
end

-- Dashes to underscores (resty.core.utils' str_replace_char).
local function replace_dashes(str)
  if not find(str, "-", 1, true) then
    return str
  end
  return (gsub(str, "%-", "_"))
end

M.replace_dashes = replace_dashes

function M.replace_dashes_lower(str)
  return replace_dashes(lower(str))
end

return M
