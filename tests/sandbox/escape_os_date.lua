-- os.date, outside the documented sandbox
-- expect strict,lax,on: 200 1970
-- expect sandbox: 500 attempt to call
return kong.response.exit(200, os.date("!%Y", 0))
