-- repeat until false inside pcall (pcall must not catch the limit)
-- expect all: 500 instruction limit exceeded
pcall(function() repeat until false end)
return kong.response.exit(200, "escaped")
