-- keeping coroutines alive without bound
-- expect all: 500 memory limit exceeded
local t, s = {}, "x"
for _ = 1, 10 do s = s .. s end
while true do
  local payload = s .. #t
  t[#t + 1] = coroutine.create(function() return payload end)
end
