-- split basic credentials already decoded (input 4)
local function creds(decoded)
  local user, pass = decoded:match("^([^:]+):(.*)$")
  if not user then return nil end
  return user, #pass, pass == "" and "empty" or "set"
end
print(creds("c:d:e"))
