-- kong.tools.cjson, as Kong's kong/tools/cjson.lua: a cjson.safe instance of its own that
-- decodes arrays with array_mt, encodes sparse arrays up to 2^15 and keeps 16 digits.
local cjson = require("cjson.safe").new()
local array_mt = cjson.array_mt

cjson.decode_array_with_array_mt(true)
cjson.encode_sparse_array(nil, nil, 2 ^ 15)
cjson.encode_number_precision(require("kong.constants").CJSON_MAX_PRECISION)

local M = {
  encode = cjson.encode,
  decode_with_array_mt = cjson.decode,
  array_mt = array_mt,
}

-- A table that encodes as a JSON array even when empty.
function M.new_array(size)
  return setmetatable({}, array_mt)
end

return M
