-- calling the method-call helper of the compile rewrite directly
-- expect all: 200 xxx
return kong.response.exit(200, __kf_method("x", "rep", 3))
