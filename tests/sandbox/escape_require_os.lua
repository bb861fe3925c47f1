-- require of a module outside the allow-list
-- expect strict,lax,sandbox: 500 require 'os' not allowed within sandbox
-- expect on: 200 function
local os = require("os")
return kong.response.exit(200, type(os.date))
