local names = { "x-user", "x-tenant", "x-region", "x-trace", "accept" }
local parts = {}
for i = 1, #names do
  local value = kong.request.get_header(names[i]) or ""
  parts[i] = (value:lower():gsub("^%s+", ""):gsub("%s+$", ""))
end
kong.service.request.set_header("x-user-id", parts[1])
kong.service.request.set_header("x-tenant-id", parts[2] .. "/" .. parts[3])
kong.service.request.set_header("x-trace-id", parts[4])
