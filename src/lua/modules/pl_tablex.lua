-- pl.tablex, as Penlight 1.14's lua/pl/tablex.lua defines its functions. Results are
-- plain tables (no pl.List / pl.Map / pl.Set metatables); a function argument may be a
-- function, a callable table or one of pl.operator's names ('+', '==', '..', '#' ...),
-- but not a string lambda ('|x| x + 1').
local pairs, ipairs, type, select, tostring = pairs, ipairs, type, select, tostring
local getmetatable, setmetatable = getmetatable, setmetatable
local sort, insert, remove = table.sort, table.insert, table.remove
local min, abs = math.min, math.abs

local tablex = {}

local function complain(idx, msg)
  error(("argument %d is not %s"):format(idx, msg), 3)
end

local function has_meta(val, field)
  if type(val) == "table" then
    return true
  end
  local mt = getmetatable(val)
  return type(mt) == "table" and mt[field] ~= nil
end

local function assert_iterable(idx, val)
  if not has_meta(val, "__pairs") then complain(idx, "iterable") end
end

local function assert_indexable(idx, val)
  if not has_meta(val, "__index") then complain(idx, "indexable") end
end

local function assert_writeable(idx, val)
  if not has_meta(val, "__newindex") then complain(idx, "writeable") end
end

local function assert_table(idx, val)
  if type(val) ~= "table" then
    error(("argument %d expected a 'table', got a '%s'"):format(idx, type(val)), 3)
  end
end

-- pl.operator.optable.
local operators = {
  ["+"] = function(a, b) return a + b end,
  ["-"] = function(a, b) return a - b end,
  ["*"] = function(a, b) return a * b end,
  ["/"] = function(a, b) return a / b end,
  ["%"] = function(a, b) return a % b end,
  ["^"] = function(a, b) return a ^ b end,
  [".."] = function(a, b) return a .. b end,
  ["()"] = function(fn, ...) return fn(...) end,
  ["[]"] = function(t, k) return t[k] end,
  ["<"] = function(a, b) return a < b end,
  ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end,
  [">="] = function(a, b) return a >= b end,
  ["=="] = function(a, b) return a == b end,
  ["~="] = function(a, b) return a ~= b end,
  ["#"] = function(a) return #a end,
  ["and"] = function(a, b) return a and b end,
  ["or"] = function(a, b) return a or b end,
  ["{}"] = function(...) return { ... } end,
  ["~"] = function(a, b) return string.find(a, b) ~= nil end,
  [""] = function(...) return ... end,
}

local function function_arg(idx, f)
  local tp = type(f)
  if tp == "function" then
    return f
  elseif tp == "string" then
    local fn = operators[f]
    if fn then return fn end
    error("string lambdas are not supported here: " .. f, 3)
  elseif tp == "table" then
    local mt = getmetatable(f)
    if not mt or not mt.__call then error("not a callable object", 3) end
    return f
  end
  error("argument " .. idx .. ":  must be callable", 3)
end

function tablex.update(t1, t2)
  assert_writeable(1, t1)
  assert_iterable(2, t2)
  for k, v in pairs(t2) do t1[k] = v end
  return t1
end

function tablex.size(t)
  assert_iterable(1, t)
  local i = 0
  for _ in pairs(t) do i = i + 1 end
  return i
end

function tablex.copy(t)
  assert_iterable(1, t)
  local res = {}
  for k, v in pairs(t) do res[k] = v end
  return res
end

local function deep_copy(t, cache)
  if type(t) ~= "table" then return t end
  if cache[t] then return cache[t] end
  local res = {}
  cache[t] = res
  for k, v in pairs(t) do
    res[deep_copy(k, cache)] = deep_copy(v, cache)
  end
  setmetatable(res, getmetatable(t))
  return res
end

function tablex.deepcopy(t)
  return deep_copy(t, {})
end

local function deep_compare(t1, t2, ignore_mt, eps, cache)
  if cache[t1] and cache[t1][t2] then return true end
  local ty1, ty2 = type(t1), type(t2)
  if ty1 ~= ty2 then return false end
  if ty1 ~= "table" then
    if ty1 == "number" and eps then return abs(t1 - t2) < eps end
    return t1 == t2
  end
  local mt = getmetatable(t1)
  if not ignore_mt and mt and mt.__eq then return t1 == t2 end
  for k in pairs(t1) do
    if t2[k] == nil then return false end
  end
  for k in pairs(t2) do
    if t1[k] == nil then return false end
  end
  cache[t1] = cache[t1] or {}
  cache[t1][t2] = true
  for k, v in pairs(t1) do
    if not deep_compare(v, t2[k], ignore_mt, eps, cache) then return false end
  end
  return true
end

function tablex.deepcompare(t1, t2, ignore_mt, eps)
  return deep_compare(t1, t2, ignore_mt, eps, {})
end

function tablex.compare(t1, t2, cmp)
  assert_indexable(1, t1)
  assert_indexable(2, t2)
  if #t1 ~= #t2 then return false end
  cmp = function_arg(3, cmp)
  for k = 1, #t1 do
    if not cmp(t1[k], t2[k]) then return false end
  end
  return true
end

function tablex.compare_no_order(t1, t2, cmp)
  assert_indexable(1, t1)
  assert_indexable(2, t2)
  if cmp then cmp = function_arg(3, cmp) end
  if #t1 ~= #t2 then return false end
  local visited = {}
  for i = 1, #t1 do
    local val, found = t1[i], nil
    for j = 1, #t2 do
      if not visited[j] then
        local match
        if cmp then match = cmp(val, t2[j]) else match = val == t2[j] end
        if match then
          found = j
          break
        end
      end
    end
    if not found then return false end
    visited[found] = true
  end
  return true
end

function tablex.find(t, val, idx)
  assert_indexable(1, t)
  idx = idx or 1
  if idx < 0 then idx = #t + idx + 1 end
  for i = idx, #t do
    if t[i] == val then return i end
  end
  return nil
end

function tablex.rfind(t, val, idx)
  assert_indexable(1, t)
  idx = idx or #t
  if idx < 0 then idx = #t + idx + 1 end
  for i = idx, 1, -1 do
    if t[i] == val then return i end
  end
  return nil
end

function tablex.find_if(t, cmp, arg)
  assert_iterable(1, t)
  cmp = function_arg(2, cmp)
  for k, v in pairs(t) do
    local c = cmp(v, arg)
    if c then return k, c end
  end
  return nil
end

function tablex.index_by(tbl, idx)
  assert_indexable(1, tbl)
  assert_indexable(2, idx)
  local res = {}
  for i = 1, #idx do res[i] = tbl[idx[i]] end
  return res
end

function tablex.map(fun, t, ...)
  assert_iterable(1, t)
  fun = function_arg(1, fun)
  local res = {}
  for k, v in pairs(t) do res[k] = fun(v, ...) end
  return setmetatable(res, getmetatable(t))
end

function tablex.imap(fun, t, ...)
  assert_indexable(1, t)
  fun = function_arg(1, fun)
  local res = {}
  for i = 1, #t do res[i] = fun(t[i], ...) or false end
  return res
end

function tablex.map_named_method(name, t, ...)
  if type(name) ~= "string" then
    error(("argument 1 expected a 'string', got a '%s'"):format(type(name)), 2)
  end
  assert_indexable(2, t)
  local res = {}
  for i = 1, #t do
    local val = t[i]
    res[i] = val[name](val, ...)
  end
  return res
end

function tablex.transform(fun, t, ...)
  assert_iterable(1, t)
  fun = function_arg(1, fun)
  for k, v in pairs(t) do t[k] = fun(v, ...) end
end

function tablex.range(start, finish, step)
  step = step or 1
  if start == finish then
    return { start }
  elseif (start > finish and step > 0) or (finish > start and step < 0) then
    return {}
  end
  local res, k = {}, 1
  for i = start, finish, step do
    res[k] = i
    k = k + 1
  end
  return res
end

function tablex.map2(fun, t1, t2, ...)
  assert_iterable(1, t1)
  assert_iterable(2, t2)
  fun = function_arg(1, fun)
  local res = {}
  for k, v in pairs(t1) do res[k] = fun(v, t2[k], ...) end
  return res
end

function tablex.imap2(fun, t1, t2, ...)
  assert_indexable(2, t1)
  assert_indexable(3, t2)
  fun = function_arg(1, fun)
  local res = {}
  for i = 1, min(#t1, #t2) do res[i] = fun(t1[i], t2[i], ...) end
  return res
end

function tablex.reduce(fun, t, memo)
  assert_indexable(2, t)
  fun = function_arg(1, fun)
  local n = #t
  if n == 0 then return memo end
  local res = memo and fun(memo, t[1]) or t[1]
  for i = 2, n do res = fun(res, t[i]) end
  return res
end

tablex.foldl = tablex.reduce

function tablex.foreach(t, fun, ...)
  assert_iterable(1, t)
  fun = function_arg(2, fun)
  for k, v in pairs(t) do fun(v, k, ...) end
end

function tablex.foreachi(t, fun, ...)
  assert_indexable(1, t)
  fun = function_arg(2, fun)
  for i = 1, #t do fun(t[i], i, ...) end
end

function tablex.mapn(fun, ...)
  fun = function_arg(1, fun)
  local res, lists = {}, { ... }
  if #lists == 0 then return res end
  local n = math.huge
  for i = 1, #lists do n = min(n, #lists[i]) end
  for i = 1, n do
    local args = {}
    for j = 1, #lists do args[j] = lists[j][i] end
    res[#res + 1] = fun(unpack(args, 1, #lists))
  end
  return res
end

function tablex.pairmap(fun, t, ...)
  assert_iterable(1, t)
  fun = function_arg(1, fun)
  local res = {}
  for k, v in pairs(t) do
    local rv, rk = fun(k, v, ...)
    if rk then
      if res[rk] then
        if type(res[rk]) == "table" then
          insert(res[rk], rv)
        else
          res[rk] = { res[rk], rv }
        end
      else
        res[rk] = rv
      end
    else
      res[#res + 1] = rv
    end
  end
  return res
end

function tablex.keys(t)
  assert_iterable(1, t)
  local res = {}
  for k in pairs(t) do res[#res + 1] = k end
  return res
end

function tablex.values(t)
  assert_iterable(1, t)
  local res = {}
  for _, v in pairs(t) do res[#res + 1] = v end
  return res
end

function tablex.index_map(t)
  assert_indexable(1, t)
  local res = {}
  for i, v in pairs(t) do res[v] = i end
  return res
end

function tablex.makeset(t)
  assert_indexable(1, t)
  local res = {}
  for _, v in pairs(t) do res[v] = true end
  return res
end

function tablex.merge(t1, t2, dup)
  assert_iterable(1, t1)
  assert_iterable(2, t2)
  local res = {}
  for k, v in pairs(t1) do
    if dup or t2[k] then res[k] = v end
  end
  if dup then
    for k, v in pairs(t2) do res[k] = v end
  end
  return res
end

function tablex.union(t1, t2)
  return tablex.merge(t1, t2, true)
end

function tablex.intersection(t1, t2)
  return tablex.merge(t1, t2, false)
end

function tablex.difference(s1, s2, symm)
  assert_iterable(1, s1)
  assert_iterable(2, s2)
  local res = {}
  for k, v in pairs(s1) do
    if s2[k] == nil then res[k] = v end
  end
  if symm then
    for k, v in pairs(s2) do
      if s1[k] == nil then res[k] = v end
    end
  end
  return res
end

function tablex.count_map(t, cmp)
  assert_indexable(1, t)
  local res, mask = {}, {}
  cmp = function_arg(2, cmp or "==")
  local n = #t
  for i = 1, n do
    local v = t[i]
    if not mask[v] then
      mask[v] = true
      res[v] = 1
      for j = i + 1, n do
        local w = t[j]
        if cmp(v, w) then
          res[v] = res[v] + 1
          mask[w] = true
        end
      end
    end
  end
  return res
end

function tablex.filter(t, pred, arg)
  assert_indexable(1, t)
  pred = function_arg(2, pred)
  local res, k = {}, 1
  for i = 1, #t do
    local v = t[i]
    if pred(v, arg) then
      res[k] = v
      k = k + 1
    end
  end
  return res
end

function tablex.zip(...)
  return tablex.mapn(function(...) return { ... } end, ...)
end

local function normalize_slice(t, first, last)
  local sz = #t
  first = first or 1
  if first < 0 then first = sz + first + 1 end
  last = last or sz
  if last < 0 then last = sz + 1 + last end
  return first, last
end

tablex._normalize_slice = normalize_slice

function tablex.sub(t, first, last)
  assert_indexable(1, t)
  first, last = normalize_slice(t, first, last)
  local res = {}
  for i = first, last do insert(res, t[i]) end
  return res
end

function tablex.clear(t, istart)
  istart = istart or 1
  for _ = istart, #t do remove(t) end
end

local function copy_range(dest, src, idest, isrc, nsrc, clean_tail)
  idest = idest or 1
  isrc = isrc or 1
  local iend
  if not nsrc then
    nsrc = #src
    iend = #src
  else
    iend = isrc + min(nsrc - 1, #src - isrc)
  end
  if dest == src and idest > isrc and iend >= idest then
    src = tablex.sub(src, isrc, nsrc)
    isrc = 1
    iend = #src
  end
  for i = isrc, iend do
    dest[idest] = src[i]
    idest = idest + 1
  end
  if clean_tail then tablex.clear(dest, idest) end
  return dest
end

function tablex.icopy(dest, src, idest, isrc, nsrc)
  assert_indexable(1, dest)
  assert_indexable(2, src)
  return copy_range(dest, src, idest, isrc, nsrc, true)
end

function tablex.move(dest, src, idest, isrc, nsrc)
  assert_indexable(1, dest)
  assert_indexable(2, src)
  return copy_range(dest, src, idest, isrc, nsrc, false)
end

function tablex.set(t, val, i1, i2)
  assert_indexable(1, t)
  i1, i2 = i1 or 1, i2 or #t
  local callable = type(val) == "function"
    or (type(val) == "table" and getmetatable(val) and getmetatable(val).__call)
  for i = i1, i2 do
    if callable then t[i] = val(i) else t[i] = val end
  end
end

function tablex.new(n, val)
  local res = {}
  tablex.set(res, val, 1, n)
  return res
end

function tablex.insertvalues(t, ...)
  assert_table(1, t)
  local pos, values
  if select("#", ...) == 1 then
    pos, values = #t + 1, ...
  else
    pos, values = ...
  end
  if #values > 0 then
    for i = #t, pos, -1 do t[i + #values] = t[i] end
    local offset = 1 - pos
    for i = pos, pos + #values - 1 do t[i] = values[i + offset] end
  end
  return t
end

function tablex.removevalues(t, i1, i2)
  assert_table(1, t)
  i1, i2 = normalize_slice(t, i1, i2)
  for _ = i1, i2 do remove(t, i1) end
  return t
end

local function search(t, value, seen)
  for k, v in pairs(t) do
    if v == value then return k end
  end
  for k, v in pairs(t) do
    if not seen[v] and type(v) == "table" then
      seen[v] = true
      local res = search(v, value, seen)
      if res then
        res = tostring(res)
        if type(k) ~= "string" then
          return "[" .. tostring(k) .. "]" .. res
        end
        return k .. "." .. res
      end
    end
  end
end

function tablex.search(t, value, exclude)
  assert_iterable(1, t)
  local seen = { [t] = true }
  if exclude then
    for _, v in pairs(exclude) do seen[v] = true end
  end
  return search(t, value, seen)
end

local function sorted_iterator(t, keys)
  local i = 0
  return function()
    i = i + 1
    return keys[i], t[keys[i]]
  end
end

function tablex.sort(t, f)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, f)
  return sorted_iterator(t, keys)
end

function tablex.sortv(t, f)
  f = function_arg(2, f or "<")
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, function(x, y) return f(t[x], t[y]) end)
  return sorted_iterator(t, keys)
end

function tablex.readonly(t)
  local mt = {
    __index = t,
    __newindex = function() error("Attempt to modify read-only table", 2) end,
    __pairs = function() return pairs(t) end,
    __ipairs = function() return ipairs(t) end,
    __len = function() return #t end,
    __metatable = false,
  }
  return setmetatable({}, mt)
end

return tablex
