-- kong.tools.ip, as Kong 3.10's kong/tools/ip.lua defines its functions: validation
-- through resty.ipmatcher's parsers, normalisation and host formatting.
local ipmatcher = require("resty.ipmatcher")
local kstring = require("kong.tools.string")
local splitn, split_once = kstring.splitn, kstring.split_once
local type, ipairs, tonumber, tostring = type, ipairs, tonumber, tostring
local gsub, fmt, lower, find = string.gsub, string.format, string.lower, string.find

local M = {}

local ipv4_prefixes, ipv6_prefixes = {}, {}
for i = 0, 32 do ipv4_prefixes[tostring(i)] = i end
for i = 0, 128 do ipv6_prefixes[tostring(i)] = i end

local function validate(input, f1, f2, prefixes)
  if type(input) ~= "string" then return false end
  if prefixes then
    local ip, prefix = split_once(input, "/")
    if not ip or not prefixes[prefix] then return false end
    input = ip
  end
  if f1(input) then return true end
  if f2 and f2(input) then return true end
  return false
end

function M.is_valid_ipv4(ip) return validate(ip, ipmatcher.parse_ipv4) end
function M.is_valid_ipv6(ip) return validate(ip, ipmatcher.parse_ipv6) end
function M.is_valid_ip(ip) return validate(ip, ipmatcher.parse_ipv4, ipmatcher.parse_ipv6) end
function M.is_valid_cidr_v4(c) return validate(c, ipmatcher.parse_ipv4, nil, ipv4_prefixes) end
function M.is_valid_cidr_v6(c) return validate(c, ipmatcher.parse_ipv6, nil, ipv6_prefixes) end
function M.is_valid_cidr(c) return validate(c, M.is_valid_cidr_v4, M.is_valid_cidr_v6) end
function M.is_valid_ip_or_cidr_v4(v) return validate(v, ipmatcher.parse_ipv4, M.is_valid_cidr_v4) end
function M.is_valid_ip_or_cidr_v6(v) return validate(v, ipmatcher.parse_ipv6, M.is_valid_cidr_v6) end
function M.is_valid_ip_or_cidr(v) return validate(v, M.is_valid_ip, M.is_valid_cidr) end

-- "ipv6" when the name has two or more colons, "ipv4" when only digits and dots, else
-- "name" (by exclusion, not validation).
function M.hostname_type(name)
  local remainder, colons = gsub(name, ":", "")
  if colons > 1 then return "ipv6" end
  if remainder:match("^[%d%.]+$") then return "ipv4" end
  return "name"
end

function M.normalize_ipv4(address)
  local pattern = "^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)$"
  if address:find(":", 1, true) then
    pattern = "^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?):(%d+)$"
  end
  local a, b, c, d, port = address:match(pattern)
  if not a then return nil, "invalid ipv4 address: " .. address end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then
    return nil, "invalid ipv4 address: " .. address
  end
  if port then
    port = tonumber(port)
    if port > 65535 then return nil, "invalid port number" end
  end
  return fmt("%d.%d.%d.%d", a, b, c, d), port
end

function M.normalize_ipv6(address)
  local check, port = address:match("^(%b[])(.-)$")
  if port == "" then port = nil end
  if check then
    check = check:sub(2, -2)
    if port then
      port = port:match("^:(%d-)$")
      if not port then return nil, "invalid ipv6 address" end
      port = tonumber(port)
      if port > 65535 then return nil, "invalid port number" end
    end
  else
    check = address
    port = nil
  end
  if check:sub(1, 1) == ":" then check = "0" .. check end
  if check:sub(-1, -1) == ":" then check = check .. "0" end
  if check:find("::", 1, true) then
    local _, count = gsub(check, ":", "")
    check = gsub(check, "::", ":" .. string.rep("0:", 8 - count), 1)
  end
  local h = "(%x%x?%x?%x?)"
  local groups = { check:match("^" .. h .. ":" .. h .. ":" .. h .. ":" .. h .. ":" .. h .. ":" .. h .. ":" .. h .. ":" .. h .. "$") }
  if #groups ~= 8 then return nil, "invalid ipv6 address: " .. address end
  for i = 1, 8 do
    groups[i] = ("0000"):sub(1, 4 - #groups[i]) .. groups[i]
  end
  return lower(table.concat(groups, ":")), port
end

function M.check_hostname(address)
  local name = address
  local port = address:match(":(%d+)$")
  if port then
    name = name:sub(1, -(#port + 2))
    port = tonumber(port)
    if port > 65535 then return nil, "invalid port number" end
  end
  if name:match("^[%d%a%-%.%_]+$") == nil then
    return nil, "invalid hostname: " .. address
  end
  local t, count = splitn(name, ".")
  for index, segment in ipairs(t) do
    if segment:match("-$") or segment:match("^%.") or segment:match("%.$") or (segment == "" and index ~= count) then
      return nil, "invalid hostname: " .. address
    end
  end
  return name, port
end

local verify = { ipv4 = M.normalize_ipv4, ipv6 = M.normalize_ipv6, name = M.check_hostname }

-- { type = "ipv4" | "ipv6" | "name", host = normalized, port = number or nil }, or nil
-- and the error.
function M.normalize_ip(address)
  local atype = M.hostname_type(address)
  local addr, port = verify[atype](address)
  if not addr then return nil, port end
  return { type = atype, host = addr, port = port }
end

function M.format_host(p1, p2)
  local t = type(p1)
  if t == "nil" then return p1, p2 end
  local host, port, typ
  if t == "table" then
    port = p1.port or p2
    host = p1.host
    typ = p1.type or M.hostname_type(host)
  elseif t == "string" then
    port = p2
    host = p1
    typ = M.hostname_type(host)
  else
    return nil, "cannot format type '" .. t .. "'"
  end
  local suffix = port and ":" .. port or ""
  if typ == "ipv6" and not find(host, "[", 1, true) then
    return "[" .. M.normalize_ipv6(host) .. "]" .. suffix
  end
  return host .. suffix
end

return M
