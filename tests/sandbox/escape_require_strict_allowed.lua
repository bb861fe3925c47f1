-- require of a module strict mode allows
-- expect strict,on: 200 function
-- expect lax,sandbox: 500 require 'table.new' not allowed within sandbox
local new = require("table.new")
return kong.response.exit(200, type(new))
