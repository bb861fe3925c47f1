-- an endless loop inside an xpcall message handler
-- expect all: 500 instruction limit exceeded
xpcall(function() error("x") end, function() while true do end end)
return kong.response.exit(200, "escaped")
