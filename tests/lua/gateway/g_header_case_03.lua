-- case-insensitive header lookups with _ for - (input 3)
local headers = {["content-type"] = "application/json", ["x-request-id"] = "abc-123"}
local function get(name)
  return headers[name:lower():gsub("_", "-")]
end
print(get("x-request-id"))
