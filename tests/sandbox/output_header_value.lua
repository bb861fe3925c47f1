-- a response header value over the limit
-- expect all: 500 too long
local s = "x"
for _ = 1, 17 do s = s .. s end
kong.response.set_header("x-big", s)
return kong.response.exit(200, "set")
