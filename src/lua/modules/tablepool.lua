-- tablepool (OpenResty's lua-tablepool, lib/tablepool.lua): per-tag pools of at most 200
-- released tables; a pool is dropped and started afresh after 20000 releases.
local new_tab = require("table.new")
local clear_tab = require("table.clear")

local MAX_POOL_SIZE = 200
local MAX_RELEASES = 20000
local pools = {}

local function pool_of(tag)
  local pool = pools[tag]
  if not pool then
    pool = { c = 0, [0] = 0 }
    pools[tag] = pool
  end
  return pool
end

local M = {}

function M.fetch(tag, narr, nrec)
  local pool = pools[tag]
  if pool then
    local len = pool[0]
    if len > 0 then
      local obj = pool[len]
      pool[len] = nil
      pool[0] = len - 1
      return obj
    end
  else
    pool_of(tag)
  end
  return new_tab(narr, nrec)
end

function M.release(tag, obj, noclear)
  if not obj then
    error("object empty", 2)
  end
  local pool = pool_of(tag)
  local count = pool.c + 1
  if count >= MAX_RELEASES then
    pools[tag] = { c = 0, [0] = 0 }
    return
  end
  pool.c = count
  local len = pool[0] + 1
  if len > MAX_POOL_SIZE then
    return
  end
  if not noclear then
    setmetatable(obj, nil)
    clear_tab(obj)
  end
  pool[len] = obj
  pool[0] = len
end

return M
