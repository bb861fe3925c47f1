-- resty.ipmatcher (api7/lua-resty-ipmatcher 0.6.1, resty/ipmatcher.lua): IPv4/IPv6
-- address and CIDR matching. The parsers are inet_pton's (here Rust's strict address
-- parsers: no leading zeros in IPv4 octets); matching checks the exact address, then
-- a /0 entry, then the longest matching prefix.
local _, native = ...
local parse_ipv4, parse_ipv6 = native.parse_ipv4, native.parse_ipv6
local rshift = bit.rshift
local type, pairs, ipairs, tonumber, tostring, error = type, pairs, ipairs, tonumber, tostring, error
-- Addresses and prefixes are kept under string keys: piccolo 0.3.3 can panic growing a
-- table whose hash part holds integer keys (see README, "A piccolo 0.3.3 defect").
local find, sub, byte, concat, sort, min, max = string.find, string.sub, string.byte, table.concat, table.sort, math.min, math.max

local M = { _VERSION = 0.3, parse_ipv4 = parse_ipv4, parse_ipv6 = parse_ipv6 }
local mt = { __index = M }

-- "a/n" -> "a", n (nil when there is no "/").
local function split_ip(ip)
  local idx = find(ip, "/", 1, true)
  if not idx then
    return ip
  end
  return sub(ip, 1, idx - 1), tonumber(sub(ip, idx + 1))
end
M.split_ip = split_ip

-- The first `mask` bits of the four 32-bit words, as a key.
local function v6_prefix(words, mask)
  local parts = {}
  for i = 1, 4 do
    local bits = min(max(mask - 32 * (i - 1), 0), 32)
    if bits == 0 then break end
    parts[i] = bits == 32 and words[i] or rshift(words[i], 32 - bits)
  end
  return concat(parts, ":")
end

local function descending(a, b) return a > b end

local function mask_list(set)
  local list = {}
  for mask in pairs(set) do list[#list + 1] = tonumber(mask) end
  sort(list, descending)
  return list
end

local function new(ips, with_value)
  if type(ips) ~= "table" then
    error("missing valid ip argument", 2)
  end
  local self = { ipv4 = {}, ipv4_mask = {}, ipv6 = {}, ipv6_mask = {} }
  local iter = with_value and pairs or ipairs
  for a, b in iter(ips) do
    local text, value = b, true
    if with_value then text, value = a, b end
    local ip, mask = split_ip(text)
    local v4 = parse_ipv4(ip)
    local v6 = not v4 and parse_ipv6(ip)
    if v4 then
      mask = mask or 32
      if mask == 32 then
        self.ipv4[tostring(v4)] = value
      elseif mask == 0 then
        self.ipv4_match_all_value = value
      else
        local by_prefix = self.ipv4_mask[tostring(mask)] or {}
        self.ipv4_mask[tostring(mask)] = by_prefix
        by_prefix[tostring(rshift(v4, 32 - mask))] = value
      end
    elseif v6 then
      mask = mask or 128
      if mask == 128 then
        self.ipv6[ip] = value
      elseif mask == 0 then
        self.ipv6_match_all_value = value
      end
      local by_prefix = self.ipv6_mask[tostring(mask)] or {}
      self.ipv6_mask[tostring(mask)] = by_prefix
      by_prefix[v6_prefix(v6, mask)] = value
    else
      return nil, "invalid ip address: " .. ip
    end
  end
  self.ipv4_mask_arr = mask_list(self.ipv4_mask)
  self.ipv6_mask_arr = mask_list(self.ipv6_mask)
  return setmetatable(self, mt)
end

function M.new(ips)
  return new(ips, false)
end

-- ips: { [ip or cidr] = value }; match answers the value.
function M.new_with_value(ips)
  return new(ips, true)
end

local function match_ipv4(self, ip)
  local value = self.ipv4[tostring(ip)]
  if value ~= nil then return value end
  if self.ipv4_match_all_value ~= nil then return self.ipv4_match_all_value end
  for _, mask in ipairs(self.ipv4_mask_arr) do
    value = self.ipv4_mask[tostring(mask)][tostring(rshift(ip, 32 - mask))]
    if value ~= nil then return value end
  end
  return false
end

local function match_ipv6(self, words)
  if self.ipv6_match_all_value ~= nil then return self.ipv6_match_all_value end
  for _, mask in ipairs(self.ipv6_mask_arr) do
    local value = self.ipv6_mask[tostring(mask)][v6_prefix(words, mask)]
    if value ~= nil then return value end
  end
  return false
end

-- The matching entry's value (true without values), false when none matches, or false
-- and "invalid ip address, not ipv4 and ipv6".
function M.match(self, ip)
  local v4 = parse_ipv4(ip)
  if v4 then
    return match_ipv4(self, v4)
  end
  local v6 = parse_ipv6(ip)
  if not v6 then
    return false, "invalid ip address, not ipv4 and ipv6"
  end
  local value = self.ipv6[ip]
  if value ~= nil then return value end
  return match_ipv6(self, v6)
end

local function word(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

-- As match, for the 4 or 16 bytes of a binary address (ngx.var.binary_remote_addr).
function M.match_bin(self, bin_ip)
  if type(bin_ip) == "string" and #bin_ip == 4 then
    return match_ipv4(self, word(bin_ip, 1))
  end
  if type(bin_ip) ~= "string" or #bin_ip ~= 16 then
    return false, "invalid ip address, not ipv4 and ipv6"
  end
  return match_ipv6(self, { word(bin_ip, 1), word(bin_ip, 5), word(bin_ip, 9), word(bin_ip, 13) })
end

return M
