-- dofile (not provided in any mode)
-- expect all: 500 attempt to call
dofile("/etc/passwd")
return kong.response.exit(200, "ran")
