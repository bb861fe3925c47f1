-- calling the method-call helper of the compile rewrite directly
-- expect strict,lax,on: 200 xxx
-- expect sandbox: 500 attempt to call method 'rep'
return kong.response.exit(200, __kf_method("x", "rep", 3))
