-- resty.core.time (lua-resty-core's lib/resty/core/time.lua): the module's own
-- `monotonic_msec` and `monotonic_time`. There is no monotonic clock on proxy-wasm
-- hosts: both read the host's clock through ngx.now (milliseconds), refreshed by
-- ngx.update_time, so they can step when the host's wall clock does.
local floor, now = math.floor, ngx.now

return {
  version = "0.1.30",
  monotonic_msec = function() return floor(now() * 1000) end,
  monotonic_time = function() return now() end,
}
