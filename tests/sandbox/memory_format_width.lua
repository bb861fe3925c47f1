-- string.format with a huge width
-- expect all: 500 invalid
local s = string.format("%99999999d", 1)
