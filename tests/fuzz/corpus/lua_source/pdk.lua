local cjson = require "cjson"
local v = cjson.decode("[1,{\"a\":true}]")
local ok, e = pcall(error, {x=1})
setmetatable({}, {__index=function() return 1 end})
local co = coroutine.wrap(function() coroutine.yield(1) end) co()
kong.response.exit(200, cjson.encode(v))
