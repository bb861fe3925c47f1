-- unpack of a huge range
-- expect all: 500 too many results to unpack
local n = select("#", unpack({}, 1, 1e9))
