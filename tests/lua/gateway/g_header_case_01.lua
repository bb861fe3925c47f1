-- case-insensitive header lookups with _ for - (input 1)
local headers = {["content-type"] = "application/json", ["x-request-id"] = "abc-123"}
local function get(name)
  return headers[name:lower():gsub("_", "-")]
end
print(get("Content-Type"))
