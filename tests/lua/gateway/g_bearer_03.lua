-- extract and validate a bearer token (input 3)
local function token(auth)
  if type(auth) ~= "string" then return nil, "missing" end
  local t = auth:match("^[Bb]earer%s+([%w%-%._~%+/]+=*)$")
  if not t then return nil, "malformed" end
  if #t < 8 then return nil, "too short" end
  return t
end
print(token("Basic dXNlcjpwYXNz"))
