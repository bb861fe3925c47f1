-- parse media ranges with q-values and pick the best (input 4)
local function best(accept)
  local best_type, best_q = nil, -1
  for item in accept:gmatch("[^,]+") do
    local mtype, params = item:match("^%s*([^;%s]+)%s*(.*)$")
    local q = tonumber(params:match("q=([%d%.]+)") or "1")
    if mtype and q > best_q then best_type, best_q = mtype, q end
  end
  return best_type, best_q
end
print(best("x/y; q=0"))
