-- ngx stand-in for running the real lua-resty-jwt, lua-resty-openssl, lua-resty-hmac under plain
-- luajit (Debian luajit + lua-cjson, OpenSSL 3 libcrypto), for run.sh only; base64 as nginx
-- decodes it (ngx_decode_base64 refuses a length of 4n+1).
require("ffi").load("crypto", true)
local b='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function enc(data)
  return ((data:gsub('.', function(x)
    local r,bb='',x:byte()
    for i=8,1,-1 do r=r..(bb%2^i-bb%2^(i-1)>0 and '1' or '0') end
    return r end)..'0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if (#x < 6) then return '' end
    local c=0
    for i=1,6 do c=c+(x:sub(i,i)=='1' and 2^(6-i) or 0) end
    return b:sub(c+1,c+1) end)..({ '', '==', '=' })[#data%3+1])
end
local function dec(data)
  if data:find('[^%w%+/=]') or #data % 4 ~= 0 then return nil end
  data = data:gsub('=', '')
  if #data % 4 == 1 then return nil end -- ngx_decode_base64
  return (data:gsub('.', function(x)
    local r,f='',(b:find(x)-1)
    for i=6,1,-1 do r=r..(f%2^i-f%2^(i-1)>0 and '1' or '0') end
    return r end):gsub('%d%d%d?%d?%d?%d?%d?%d?', function(x)
    if (#x ~= 8) then return '' end
    local c=0
    for i=1,8 do c=c+(x:sub(i,i)=='1' and 2^(8-i) or 0) end
    return string.char(c) end))
end
ngx = {
  encode_base64 = enc, decode_base64 = dec,
  now = function() return os.time() end, time = function() return os.time() end,
  http_time = function(t) return os.date('!%a, %d %b %Y %H:%M:%S GMT', t) end,
  log = function() end, ERR = 4, WARN = 5, INFO = 7, DEBUG = 8,
  config = { subsystem = 'http', ngx_lua_version = 10025 },
  re = { find = function(s, p) return s:find(p) end },
}
local out = {}
kong = { log = { info = function(...) local t = {} for i = 1, select('#', ...) do t[i] = tostring((select(i, ...))) end print(table.concat(t)) end } }
package.preload['ngx.base64'] = function()
  return {
    encode_base64url = function(s) return (enc(s):gsub('%+', '-'):gsub('/', '_'):gsub('=', '')) end,
    decode_base64url = function(s)
      s = s:gsub('%-', '+'):gsub('_', '/')
      if #s % 4 > 0 then s = s .. string.rep('=', 4 - #s % 4) end
      return dec(s)
    end,
  }
end
package.preload['resty.string'] = function()
  return { to_hex = function(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end,
           atoi = tonumber }
end
