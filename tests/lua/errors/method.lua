-- runtime errors naming a method: LuaJIT's "method 'name'"; indexing a nil receiver
-- names the receiver
local function p(f, ...) print(pcall(f, ...)) end
p(function() local t = {}; t:foo() end)
p(function() local t = {}; return t:foo(1, 2) end)
p(function() local t = setmetatable({}, {__index = {}}); t:bar() end)
p(function() local s; s:upper() end)
p(function() local obj = {}; obj.inner:call() end)
p(function() missing_obj:call() end)
p(function() local s = "abc"; return s:nope() end)
p(function() local n = 5; return n:foo() end)
