-- kong.tools.mime_type, as Kong 3.10's kong/tools/mime_type.lua: the RFC 2045 grammar
-- its LPeg pattern matches (type "/" subtype *(";" attribute "=" value), or a lone "*"),
-- parsed here by hand.
local byte, sub, lower, find, match = string.byte, string.sub, string.lower, string.find, string.match
local type, error = type, error

local WILDCARD = "*"

-- RFC 2045 token characters: US-ASCII, no controls, no separators.
local SEPARATORS = {}
for c in ("()<>@,;:\\\"/[]?={} \t"):gmatch(".") do SEPARATORS[byte(c)] = true end

local function is_token_byte(b)
  return b and b > 32 and b < 127 and not SEPARATORS[b]
end

-- The token starting at i: its text and the position after it, or nil.
local function token(s, i)
  local j = i
  while is_token_byte(byte(s, j)) do j = j + 1 end
  if j == i then return nil end
  return sub(s, i, j - 1), j
end

local function spaces(s, i)
  while byte(s, i) == 32 or byte(s, i) == 9 do i = i + 1 end
  return i
end

-- A quoted string at i (its raw content) and the position after it, or nil.
local function quoted(s, i)
  if byte(s, i) ~= 34 then return nil end
  local j = i + 1
  while true do
    local b = byte(s, j)
    if b == nil or b < 32 or b == 127 then return nil end
    if b == 34 then return sub(s, i + 1, j - 1), j + 1 end
    j = j + 1
  end
end

-- type, subtype (both lower case) and the parameters (names lower case), or nil.
local function parse_mime_type(mime_type)
  local typ, subtype, i
  local t, j = token(mime_type, 1)
  if t and byte(mime_type, j) == 47 then
    local st, k = token(mime_type, j + 1)
    if st then
      typ, subtype, i = lower(t), lower(st), k
    end
  end
  if not typ then
    if byte(mime_type, 1) ~= 42 then return nil end
    typ, subtype, i = WILDCARD, WILDCARD, 2
  end
  local params = {}
  while true do
    local k = spaces(mime_type, i)
    if byte(mime_type, k) ~= 59 then break end
    k = spaces(mime_type, k + 1)
    local attribute, after = token(mime_type, k)
    if not attribute or byte(mime_type, after) ~= 61 then break end
    local value, rest = token(mime_type, after + 1)
    if not value then value, rest = quoted(mime_type, after + 1) end
    if not value then break end
    params[lower(attribute)] = value
    i = rest
  end
  if i <= #mime_type then return nil end
  return typ, subtype, params
end

-- Whether mime-type `this` ({type=, subtype=}) includes `other`: wildcards, and a
-- suffix subtype ("json" includes "problem+json").
local function includes(this, other)
  if type(this) ~= "table" then error("this must be a table", 2) end
  if type(other) ~= "table" then error("other must be a table", 2) end
  if this.type == WILDCARD then return true end
  if this.type == other.type then
    if this.subtype == other.subtype or this.subtype == WILDCARD then return true end
    if not find(this.subtype, "+", 1, true) and match(other.subtype, "+" .. this.subtype .. "$") then
      return true
    end
  end
  return false
end

return { parse_mime_type = parse_mime_type, includes = includes }
