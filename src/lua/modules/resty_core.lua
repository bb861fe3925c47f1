-- resty.core (lua-resty-core's lib/resty/core.lua): requiring it loads lua-resty-core's
-- FFI implementations of the ngx API, which here are the filter's own (ngx.shared.DICT's
-- ttl/expire/capacity/free_space included), so the module is its return value only:
-- `{ version = base.version }`. Snippets written for OpenResty start with
-- `require "resty.core"`; Kong loads it at start-up.
return {
  version = "0.1.30",
}
