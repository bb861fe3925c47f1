-- collectgarbage
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 ok
collectgarbage("collect")
return kong.response.exit(200, "ok")
