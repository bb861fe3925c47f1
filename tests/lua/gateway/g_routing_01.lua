-- match a request against prefix and method routes (input 1)
local routes = {
  {method = "GET", prefix = "/api/v1/users", name = "users"},
  {method = "POST", prefix = "/api/v1/users", name = "create_user"},
  {method = "GET", prefix = "/health", name = "health"},
  {method = nil, prefix = "/static/", name = "static"},
}
local function route(method, path)
  for _, r in ipairs(routes) do
    if (r.method == nil or r.method == method) and path:sub(1, #r.prefix) == r.prefix then return r.name end
  end
  return "not_found"
end
print(route("GET", "/api/v1/users/42"))
