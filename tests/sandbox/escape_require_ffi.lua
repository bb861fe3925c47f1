-- require 'ffi'
-- expect strict,lax,sandbox: 500 require 'ffi' not allowed within sandbox
-- expect on: 500 module 'ffi' not found
local ffi = require("ffi")
return kong.response.exit(200, type(ffi))
