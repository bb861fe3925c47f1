-- rawget on the globals
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 table
return kong.response.exit(200, type(rawget(_G, "string")))
