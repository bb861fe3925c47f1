-- resty.core.shdict (lua-resty-core's lib/resty/core/shdict.lua): requiring it puts
-- the FFI versions of ngx.shared.DICT's methods (ttl, expire, capacity, free_space
-- among them) on the dictionaries' metatable. The filter's dictionaries have them
-- already, so the module is its return value only: `{ version = base.version }`.
return {
  version = "0.1.30",
}
