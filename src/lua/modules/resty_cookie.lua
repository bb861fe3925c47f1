-- resty.cookie (cloudflare/lua-resty-cookie, lib/resty/cookie.lua): the request's
-- Cookie header parsed on first use, Set-Cookie values baked and appended to the
-- response's Set-Cookie header.
local type, byte, sub, format, setmetatable = type, string.byte, string.sub, string.format, setmetatable

local EQUAL, SEMICOLON, SPACE, HTAB = byte("="), byte(";"), byte(" "), byte("\t")

local M = { _VERSION = "0.01" }

-- The cookie header's name=value pairs (the same walk as the original's state machine:
-- a value ends at ";", " " or "\t"; leading blanks are skipped).
local function cookie_table(text)
  if type(text) ~= "string" then
    ngx.log(ngx.ERR, format('expect text_cookie to be "string" but found %s', type(text)))
    return {}
  end
  local EXPECT_KEY, EXPECT_VALUE, EXPECT_SP = 1, 2, 3
  local result, state, i, j, len = {}, EXPECT_SP, 1, 1, #text
  local key, value
  while j <= len do
    local b = byte(text, j)
    if state == EXPECT_KEY then
      if b == EQUAL then
        key = sub(text, i, j - 1)
        state = EXPECT_VALUE
        i = j + 1
      end
    elseif state == EXPECT_VALUE then
      if b == SEMICOLON or b == SPACE or b == HTAB then
        value = sub(text, i, j - 1)
        result[key] = value
        key, value = nil, nil
        state = EXPECT_SP
        i = j + 1
      end
    elseif b ~= SPACE and b ~= HTAB then
      state = EXPECT_KEY
      i = j
      j = j - 1
    end
    j = j + 1
  end
  if key ~= nil and value == nil then
    result[key] = sub(text, i)
  end
  return result
end

function M.new(self)
  return setmetatable({ _cookie = ngx.var.http_cookie, set_cookie_table = {} }, { __index = self })
end

function M.get(self, key)
  if not self._cookie then
    return nil, "no cookie found in the current request"
  end
  if self.cookie_table == nil then
    self.cookie_table = cookie_table(self._cookie)
  end
  return self.cookie_table[key]
end

function M.get_all(self)
  if not self._cookie then
    return nil, "no cookie found in the current request"
  end
  if self.cookie_table == nil then
    self.cookie_table = cookie_table(self._cookie)
  end
  return self.cookie_table
end

function M.get_cookie_size(self)
  if not self._cookie then
    return 0
  end
  return #self._cookie
end

-- A Set-Cookie value from { key, value, expires, max_age / "max-age", domain, path,
-- secure, httponly, samesite ("Strict" | "Lax" | "None"), extension }.
local function bake(cookie)
  if not cookie.key or not cookie.value then
    return nil, 'missing cookie field "key" or "value"'
  end
  if cookie["max-age"] then
    cookie.max_age = cookie["max-age"]
  end
  local samesite = cookie.samesite
  if samesite and samesite ~= "Strict" and samesite ~= "Lax" and samesite ~= "None" then
    ngx.log(ngx.WARN, "SameSite value must be 'Strict', 'Lax' or 'None'")
    cookie.samesite = nil
  end
  return cookie.key .. "=" .. cookie.value
    .. (cookie.expires and "; Expires=" .. cookie.expires or "")
    .. (cookie.max_age and "; Max-Age=" .. cookie.max_age or "")
    .. (cookie.domain and "; Domain=" .. cookie.domain or "")
    .. (cookie.path and "; Path=" .. cookie.path or "")
    .. (cookie.secure and "; Secure" or "")
    .. (cookie.httponly and "; HttpOnly" or "")
    .. (cookie.samesite and "; SameSite=" .. cookie.samesite or "")
    .. (cookie.extension and "; " .. cookie.extension or "")
end

function M.set(self, cookie)
  local cookie_str, err = bake(cookie)
  if not cookie_str then
    return nil, err
  end
  local header = ngx.header
  local current = header["Set-Cookie"]
  local t = {}
  if type(current) == "string" then
    if current ~= cookie_str then
      t[1] = current
      t[2] = cookie_str
      header["Set-Cookie"] = t
    end
  elseif type(current) == "table" then
    for i = 1, #current do
      t[i] = current[i]
      if t[i] == cookie_str then
        return true
      end
    end
    t[#current + 1] = cookie_str
    header["Set-Cookie"] = t
  else
    header["Set-Cookie"] = cookie_str
  end
  return true
end

M.get_cookie_string = bake

return M
