-- classify status codes and build an error body (input 1)
local function class(status)
  local c = math.floor(status / 100)
  local names = {[2] = "success", [3] = "redirect", [4] = "client error", [5] = "server error"}
  return names[c] or "unknown", string.format('{"status":%d,"class":"%s"}', status, names[c] or "unknown")
end
print(class(200))
