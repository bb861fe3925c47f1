-- a table that grows without bound
-- expect all: 500 memory limit exceeded
local t = {}
while true do t[#t + 1] = { #t } end
