-- string.rep as a field of a string value, `("").rep` (piccolo gives strings no metatable, so indexing a string fails in every mode; method calls work through the compile rewrite)
-- expect all: 500 attempt to index a string value
local rep = ("").rep
return kong.response.exit(200, rep("x", 3))
