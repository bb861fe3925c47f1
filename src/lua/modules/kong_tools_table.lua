-- kong.tools.table, as Kong 3.10's kong/tools/table.lua defines its functions.
local type, pairs, ipairs, next, tostring, select = type, pairs, ipairs, next, tostring, select
local getmetatable, setmetatable = getmetatable, setmetatable
local insert = table.insert
local floor, max = math.floor, math.max
local isarray = require("table.isarray")
local clone = require("table.clone")

local M = {}

M.EMPTY = require("pl.tablex").readonly({})

-- The arguments with `n` set to their count (nil-safe).
function M.pack(...)
  return { n = select("#", ...), ... }
end

-- unpack honouring `n`.
function M.unpack(t, i, j)
  return unpack(t, i or 1, j or t.n or #t)
end

function M.table_merge(t1, t2)
  local res = {}
  if t1 then for k, v in pairs(t1) do res[k] = v end end
  if t2 then for k, v in pairs(t2) do res[k] = v end end
  return res
end

-- As table_merge, but an ngx.null in t2 does not replace a value of t1.
function M.null_aware_table_merge(t1, t2)
  local res = {}
  if t1 then for k, v in pairs(t1) do res[k] = v end end
  if t2 then
    for k, v in pairs(t2) do
      if res[k] == nil or v ~= ngx.null then res[k] = v end
    end
  end
  return res
end

function M.table_contains(arr, val)
  if arr then
    for _, v in pairs(arr) do
      if v == val then return true end
    end
  end
  return false
end

local function is_array_strict(t)
  local m, c = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or floor(k) ~= k then return false end
    m = max(m, k)
    c = c + 1
  end
  return c == m
end

local function is_array_lapis(t)
  if type(t) ~= "table" then return false end
  local i = 0
  for _ in pairs(t) do
    i = i + 1
    if t[i] == nil and t[tostring(i)] == nil then return false end
  end
  return true
end

-- mode "strict" (default: keys 1..n, no holes), "fast" (table.isarray), "lapis"
-- (string digits allowed).
function M.is_array(t, mode)
  if type(t) ~= "table" then return false end
  if mode == "lapis" then return is_array_lapis(t) end
  if mode == "fast" then return isarray(t) end
  return is_array_strict(t)
end

M.is_lapis_array = is_array_lapis

-- Keys, values and (unless copy_mt is false) metatables copied.
function M.deep_copy(orig, copy_mt)
  if copy_mt == nil then copy_mt = true end
  if type(orig) ~= "table" then return orig end
  local copy = {}
  for k, v in next, orig, nil do
    copy[M.deep_copy(k)] = M.deep_copy(v, copy_mt)
  end
  if copy_mt then
    setmetatable(copy, M.deep_copy(getmetatable(orig)))
  end
  return copy
end

function M.shallow_copy(orig)
  if type(orig) == "table" then return clone(orig) end
  return orig
end

function M.deep_merge(t1, t2)
  local res = M.deep_copy(t1)
  for k, v in pairs(t2) do
    if type(v) == "table" and type(res[k]) == "table" then
      res[k] = M.deep_merge(res[k], v)
    else
      res[k] = M.deep_copy(v)
    end
  end
  return res
end

function M.cycle_aware_deep_copy(orig, remove_metatables, deep_copy_keys, cache)
  if type(orig) ~= "table" then return orig end
  cache = cache or {}
  if cache[orig] then return cache[orig] end
  local copy = clone(orig)
  cache[orig] = copy
  local mt
  if not remove_metatables then mt = getmetatable(orig) end
  for k, v in pairs(orig) do
    if type(v) == "table" then
      copy[k] = M.cycle_aware_deep_copy(v, remove_metatables, deep_copy_keys, cache)
    end
    if deep_copy_keys and type(k) == "table" then
      local new_k = M.cycle_aware_deep_copy(k, remove_metatables, deep_copy_keys, cache)
      copy[new_k] = copy[k]
      copy[k] = nil
    end
  end
  if mt then setmetatable(copy, mt) end
  return copy
end

function M.cycle_aware_deep_merge(t1, t2, remove_metatables, deep_copy_keys, cache)
  cache = cache or {}
  local merged = M.cycle_aware_deep_copy(t1, remove_metatables, deep_copy_keys, cache)
  for k, v in pairs(t2) do
    if type(v) == "table" then
      if type(merged[k]) == "table" then
        merged[k] = M.cycle_aware_deep_merge(merged[k], v, remove_metatables, deep_copy_keys, cache)
      else
        merged[k] = M.cycle_aware_deep_copy(v, remove_metatables, deep_copy_keys, cache)
      end
    else
      merged[k] = v
    end
  end
  return merged
end

function M.concat(...)
  local result = {}
  for _, t in ipairs({ ... }) do
    for _, v in ipairs(t) do insert(result, v) end
  end
  return result
end

local err_list_mt = {}

-- errors[k] = v; a second error for k turns the entry into a list.
function M.add_error(errors, k, v)
  errors = errors or {}
  if errors[k] then
    if getmetatable(errors[k]) ~= err_list_mt then
      errors[k] = setmetatable({ errors[k] }, err_list_mt)
    end
    insert(errors[k], v)
  else
    errors[k] = v
  end
  return errors
end

function M.table_path(t, path)
  local current = t
  for _, element in ipairs(path) do
    if current[element] == nil then return nil end
    current = current[element]
  end
  return current
end

return M
