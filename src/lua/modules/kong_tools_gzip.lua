-- kong.tools.gzip, as Kong 3.10's kong/tools/gzip.lua: deflate_gzip(str) and
-- inflate_gzip(gz), gzip at zlib's default level out, gzip or zlib in (lua-ffi-zlib's
-- inflateGzip detects the header), nil and lua-ffi-zlib's message on failure. Inflating
-- stops at the VM's string limit ("INFLATE: output too large").
local _, native = ...

return {
  deflate_gzip = native.deflate_gzip,
  inflate_gzip = native.inflate_gzip,
}
