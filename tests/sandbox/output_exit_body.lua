-- an exit body over the limit
-- expect all: 500 body too large
local s = "x"
for _ = 1, 24 do s = s .. s end
return kong.response.exit(200, s)
