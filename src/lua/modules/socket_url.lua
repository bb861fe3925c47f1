-- socket.url, as LuaSocket's src/url.lua (URL 1.0.3) defines its functions: RFC 3986
-- parsing and building of URLs, escaping, and relative resolution.
local gsub, format, byte, char, find, sub, match = string.gsub, string.format, string.byte, string.char, string.find, string.sub, string.match
local insert = table.insert
local tonumber, tostring, pairs, type = tonumber, tostring, pairs, type

local M = { _VERSION = "URL 1.0.3" }

-- Every byte but letters, digits and "_" as %xx (lower-case hex).
function M.escape(s)
  return (gsub(s, "([^A-Za-z0-9_])", function(c)
    return format("%%%02x", byte(c))
  end))
end

local SEGMENT_SAFE = {}
for c in ("-_.!~*'():@&=+$,"):gmatch(".") do SEGMENT_SAFE[c] = true end

local function protect_segment(s)
  return (gsub(s, "([^A-Za-z0-9_])", function(c)
    if SEGMENT_SAFE[c] then return c end
    return format("%%%02X", byte(c))
  end))
end

function M.unescape(s)
  return (gsub(s, "%%(%x%x)", function(hex)
    return char(tonumber(hex, 16))
  end))
end

-- RFC 3986 section 5.2.4: "." and ".." segments removed ("//" kept).
local function remove_dot_components(path)
  local marker = char(1)
  repeat
    local was = path
    path = gsub(path, "//", "/" .. marker .. "/", 1)
  until path == was
  repeat
    local was = path
    path = gsub(path, "/%./", "/", 1)
  until path == was
  repeat
    local was = path
    path = gsub(path, "[^/]+/%.%./([^/]+)", "%1", 1)
  until path == was
  path = gsub(path, "[^/]+/%.%./*$", "")
  path = gsub(path, "/%.%.$", "/")
  path = gsub(path, "/%.$", "/")
  path = gsub(path, "^/%.%./", "/")
  path = gsub(path, marker, "")
  return path
end

local function absolute_path(base_path, relative_path)
  if sub(relative_path, 1, 1) == "/" then
    return remove_dot_components(relative_path)
  end
  base_path = gsub(base_path, "[^/]*$", "")
  if not find(base_path, "/$") then base_path = base_path .. "/" end
  return remove_dot_components(base_path .. relative_path)
end

-- A table with scheme, authority, path, params, query, fragment, userinfo, user,
-- password, host and port (those present), starting from a copy of `default`; nil and
-- "invalid url" for nil or "".
function M.parse(url, default)
  local parsed = {}
  for k, v in pairs(default or parsed) do parsed[k] = v end
  if not url or url == "" then return nil, "invalid url" end
  url = gsub(url, "^([%w][%w%+%-%.]*)%:", function(s) parsed.scheme = s; return "" end)
  url = gsub(url, "^//([^/%?#]*)", function(n) parsed.authority = n; return "" end)
  url = gsub(url, "#(.*)$", function(f) parsed.fragment = f; return "" end)
  url = gsub(url, "%?(.*)", function(q) parsed.query = q; return "" end)
  url = gsub(url, "%;(.*)", function(p) parsed.params = p; return "" end)
  if url ~= "" then parsed.path = url end
  local authority = parsed.authority
  if not authority then return parsed end
  authority = gsub(authority, "^([^@]*)@", function(u) parsed.userinfo = u; return "" end)
  authority = gsub(authority, ":([^:%]]*)$", function(p) parsed.port = p; return "" end)
  if authority ~= "" then
    parsed.host = match(authority, "^%[(.+)%]$") or authority
  end
  local userinfo = parsed.userinfo
  if not userinfo then return parsed end
  userinfo = gsub(userinfo, ":([^:]*)$", function(p) parsed.password = p; return "" end)
  parsed.user = userinfo
  return parsed
end

function M.build(parsed)
  local url = parsed.path or ""
  if parsed.params then url = url .. ";" .. parsed.params end
  if parsed.query then url = url .. "?" .. parsed.query end
  local authority = parsed.authority
  if parsed.host then
    authority = parsed.host
    if find(authority, ":") then authority = "[" .. authority .. "]" end
    if parsed.port then authority = authority .. ":" .. tostring(parsed.port) end
    local userinfo = parsed.userinfo
    if parsed.user then
      userinfo = parsed.user
      if parsed.password then userinfo = userinfo .. ":" .. parsed.password end
    end
    if userinfo then authority = userinfo .. "@" .. authority end
  end
  if authority then url = "//" .. authority .. url end
  if parsed.scheme then url = parsed.scheme .. ":" .. url end
  if parsed.fragment then url = url .. "#" .. parsed.fragment end
  return url
end

function M.absolute(base_url, relative_url)
  local base_parsed
  if type(base_url) == "table" then
    base_parsed = base_url
    base_url = M.build(base_parsed)
  else
    base_parsed = M.parse(base_url)
  end
  local result
  local relative_parsed = M.parse(relative_url)
  if not base_parsed then
    result = relative_url
  elseif not relative_parsed then
    result = base_url
  elseif relative_parsed.scheme then
    result = relative_url
  else
    relative_parsed.scheme = base_parsed.scheme
    if not relative_parsed.authority then
      relative_parsed.authority = base_parsed.authority
      if not relative_parsed.path then
        relative_parsed.path = base_parsed.path
        if not relative_parsed.params then
          relative_parsed.params = base_parsed.params
          if not relative_parsed.query then
            relative_parsed.query = base_parsed.query
          end
        end
      else
        relative_parsed.path = absolute_path(base_parsed.path or "", relative_parsed.path)
      end
    end
    result = M.build(relative_parsed)
  end
  return remove_dot_components(result)
end

function M.parse_path(path)
  local parsed = {}
  path = path or ""
  gsub(path, "([^/]+)", function(s) insert(parsed, s) end)
  for i = 1, #parsed do parsed[i] = M.unescape(parsed[i]) end
  if sub(path, 1, 1) == "/" then parsed.is_absolute = 1 end
  if sub(path, -1, -1) == "/" then parsed.is_directory = 1 end
  return parsed
end

function M.build_path(parsed, unsafe)
  local protect = unsafe and function(s) return s end or protect_segment
  local parts = {}
  for i = 1, #parsed do parts[i] = protect(parsed[i]) end
  local path = table.concat(parts, "/")
  if #parsed > 0 and parsed.is_directory then path = path .. "/" end
  if parsed.is_absolute then path = "/" .. path end
  return path
end

return M
