-- a chunk's global assignments stay in that chunk
-- expect all: 200 nil
leaked = "yes"
_G.also = "yes"
return kong.response.exit(200, type(probe_chunk_global))
