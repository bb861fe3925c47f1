-- normalise a URL path (dot segments, repeated slashes) (input 1)
local function normalize(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then table.remove(out)
    elseif seg ~= "." then out[#out + 1] = seg end
  end
  local result = "/" .. table.concat(out, "/")
  if path:sub(-1) == "/" and #out > 0 then result = result .. "/" end
  return result
end
print(normalize("/a/b/../c"))
