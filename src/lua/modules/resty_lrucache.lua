-- resty.lrucache (openresty/lua-resty-lrucache 0.14, lib/resty/lrucache.lua): a
-- per-VM LRU cache of at most `size` items. Here a doubly linked list of Lua tables
-- instead of the original's FFI queue; the behaviour is the library's: `get` makes an
-- item most recently used even when it has expired, and then answers nil, the stale
-- value and its flags; a full cache evicts the least recently used item.
local setmetatable, type, pairs = setmetatable, type, pairs
local now = ngx.now

-- Keys leave `nodes` as `false`, never nil: piccolo 0.3.3 panics when a table whose
-- string (or other object) key was set to nil has to grow ("all keys must be live when
-- table is grown"). The table is rebuilt once the removed keys outnumber the capacity.

-- Built for resty.lrucache and resty.lrucache.pureffi, which differ in `new`'s second
-- argument (pureffi's load factor, irrelevant here) and in pureffi's string-only keys.
local function build(version, string_keys)
  local M = { _VERSION = version }
  local mt = { __index = M }

  local function unlink(node)
    node.prev.next = node.next
    node.next.prev = node.prev
  end

  local function push_head(queue, node)
    node.next = queue.next
    node.prev = queue
    queue.next.prev = node
    queue.next = node
  end

  local function check_key(key)
    if string_keys and type(key) ~= "string" then
      -- pureffi hashes the key's bytes: LuaJIT's error for a non-string there.
      error("attempt to get length of local 'str' (a " .. type(key) .. " value)", 3)
    end
  end

  -- Marks `key` removed; rebuilds `nodes` without the removed keys when they pile up.
  local function forget(self, key)
    self.nodes[key] = false
    self.removed = self.removed + 1
    if self.removed > self.max_items + 16 then
      local live = {}
      for k, node in pairs(self.nodes) do
        if node then live[k] = node end
      end
      self.nodes = live
      self.removed = 0
    end
  end

  function M.new(size)
    if size < 1 then
      return nil, "size too small"
    end
    local queue = {}
    queue.next, queue.prev = queue, queue
    return setmetatable({ queue = queue, nodes = {}, removed = 0, num_items = 0, max_items = size }, mt)
  end

  function M.count(self)
    return self.num_items
  end

  function M.capacity(self)
    return self.max_items
  end

  function M.get(self, key)
    check_key(key)
    local node = self.nodes[key]
    if not node then
      return nil
    end
    unlink(node)
    push_head(self.queue, node)
    if node.expire >= 0 and node.expire < now() then
      return nil, node.value, node.flags
    end
    return node.value, nil, node.flags
  end

  function M.delete(self, key)
    check_key(key)
    local node = self.nodes[key]
    if not node then
      return false
    end
    forget(self, key)
    unlink(node)
    self.num_items = self.num_items - 1
    return true
  end

  -- ttl in seconds (none: never expires); flags a non-negative number, else 0.
  function M.set(self, key, value, ttl, flags)
    check_key(key)
    local nodes, queue = self.nodes, self.queue
    local node = nodes[key]
    if node then
      unlink(node)
    else
      if self.num_items >= self.max_items then
        local oldest = queue.prev
        unlink(oldest)
        forget(self, oldest.key)
        nodes = self.nodes
      else
        self.num_items = self.num_items + 1
      end
      node = { key = key }
      nodes[key] = node
    end
    node.value = value
    push_head(queue, node)
    node.expire = ttl and now() + ttl or -1
    node.flags = (type(flags) == "number" and flags >= 0) and flags or 0
  end

  -- The keys, most recently used first, at most max_count (0 or nil: all), written into
  -- `res` when given (followed by a nil).
  function M.get_keys(self, max_count, res)
    if not max_count or max_count == 0 then
      max_count = self.num_items
    end
    res = res or {}
    local queue, i = self.queue, 0
    local node = queue.next
    while node ~= queue and i < max_count do
      i = i + 1
      res[i] = node.key
      node = node.next
    end
    res[i + 1] = nil
    return res
  end

  function M.flush_all(self)
    local queue = self.queue
    queue.next, queue.prev = queue, queue
    self.nodes = {}
    self.removed = 0
    self.num_items = 0
  end

  return M
end

if ... == "resty.lrucache.pureffi" then
  return build("0.13", true)
end
return build("0.14", false)
