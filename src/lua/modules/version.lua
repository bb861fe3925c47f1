-- version (Kong/version.lua 1.0.1, src/version.lua): version parsing, ranges and sets.
-- Version objects compare with `==`, `<`, `<=`, `>`, `>=` through `__eq` and `__lt`
-- (our piccolo patch 9; `<=` is `not (b < a)` as in Lua 5.1); ranges, sets and `semver`
-- compare through the library's own rules (missing elements count as 0).
local insert, concat, max = table.insert, table.concat, math.max
local getmetatable, setmetatable, tostring, tonumber, ipairs, pairs, type = getmetatable, setmetatable, tostring, tonumber, ipairs, pairs, type

local function split(str, pat)
  local t, last_end = {}, 1
  local fpat = "(.-)" .. pat
  local s, e, cap = str:find(fpat, 1)
  while s do
    if s ~= 1 or cap ~= "" then insert(t, cap) end
    last_end = e + 1
    s, e, cap = str:find(fpat, last_end)
  end
  if last_end <= #str then insert(t, str:sub(last_end)) end
  return t
end

-- -1, 0 or 1.
local function compare(a, b)
  for i = 1, max(#a, #b) do
    local x, y = a[i] or 0, b[i] or 0
    if x < y then return -1 end
    if x > y then return 1 end
  end
  return 0
end

local new, range, set
local mt_version, mt_range, mt_set

mt_version = {
  __index = {
    semver = function(self, v)
      if self[1] == 0 then
        if getmetatable(v) ~= mt_version then
          local parsed, err = new(v, self.strict)
          if not parsed then return nil, err end
          v = parsed
        end
        return compare(self, v) == 0
      elseif self[4] then
        return nil, "Version has too many elements (semver max 3)"
      end
      return set(self, self[1] + 1, self.strict):disallowed(self[1] + 1):matches(v)
    end,
  },
  __eq = function(a, b) return compare(a, b) == 0 end,
  __lt = function(a, b)
    if getmetatable(a) ~= mt_version or getmetatable(b) ~= mt_version then
      local t = getmetatable(a) ~= mt_version and type(a) or type(b)
      error("cannot compare a 'version' to a '" .. t .. "'", 2)
    end
    return compare(a, b) < 0
  end,
  __tostring = function(self) return concat(self, ".") end,
}

local function as_version(v, strict)
  if getmetatable(v) == mt_version then return v end
  return new(v, strict)
end

mt_range = {
  __index = {
    matches = function(self, v)
      local parsed, err = as_version(v, self.strict)
      if not parsed then return nil, err end
      return compare(parsed, self.from) >= 0 and compare(parsed, self.to) <= 0
    end,
  },
  __tostring = function(self)
    local f, t = tostring(self.from), tostring(self.to)
    if f == t then return f end
    return f .. " to " .. t
  end,
}

local function list_text(list)
  if #list == 0 then return nil end
  local text = tostring(list[1])
  for i = 2, #list - 1 do text = text .. ", " .. tostring(list[i]) end
  if #list > 1 then text = text .. ", and " .. tostring(list[#list]) end
  return text
end

local function add_range(self, list, v1, v2)
  if getmetatable(v1) == mt_range then
    assert(v2 == nil, "First parameter was a range, second must be nil.")
    insert(list, v1)
  else
    local r, err = range(v1, v2, self.strict)
    if not r then return nil, err end
    insert(list, r)
  end
  return self
end

mt_set = {
  __index = {
    allowed = function(self, v1, v2) return add_range(self, self.ok, v1, v2) end,
    disallowed = function(self, v1, v2) return add_range(self, self.nok, v1, v2) end,
    matches = function(self, v)
      local parsed, err = as_version(v, self.strict)
      if not parsed then return nil, err end
      local success = false
      for _, r in pairs(self.ok) do
        if r:matches(parsed) then success = true break end
      end
      if not success then return false end
      for _, r in pairs(self.nok) do
        if r:matches(parsed) then return false end
      end
      return true
    end,
  },
  __tostring = function(self)
    local ok, nok = list_text(self.ok), list_text(self.nok)
    if ok and nok then return ok .. ", but not " .. nok end
    return ok
  end,
}

new = function(v, strict)
  v = tostring(v)
  if strict then
    if v:sub(-1, -1) == "." then
      return nil, "Not a valid version element: '" .. v .. "'"
    end
  else
    local m = v:match("(%d[%d%.]*)")
    if not m then
      return nil, "Not a valid version element: '" .. v .. "'"
    end
    v = m
  end
  local t = split(v, "%.")
  for i, s in ipairs(t) do
    local n = tonumber(s)
    if not n then
      return nil, "Not a valid version element: '" .. v .. "'"
    end
    t[i] = n
  end
  t.strict = strict
  return setmetatable(t, mt_version)
end

range = function(v1, v2, strict)
  assert(v1 or v2, "At least one parameter is required")
  v1 = v1 or "0"
  v2 = v2 or v1
  local err
  v1, err = as_version(v1, strict)
  if not v1 then return nil, err end
  v2, err = as_version(v2, strict)
  if not v2 then return nil, err end
  if compare(v1, v2) > 0 then
    return nil, "FROM version must be less than or equal to the TO version"
  end
  return setmetatable({ from = v1, to = v2, strict = strict }, mt_range)
end

set = function(v1, v2, strict)
  return setmetatable({ ok = {}, nok = {}, strict = strict }, mt_set):allowed(v1, v2)
end

local function make_module(strict)
  return setmetatable({
    new = function(v) return new(v, strict) end,
    range = function(v1, v2) return range(v1, v2, strict) end,
    set = function(v1, v2) return set(v1, v2, strict) end,
  }, { __call = function(self, ...) return self.new(...) end })
end

local M = make_module(false)
M.strict = make_module(true)
return M
