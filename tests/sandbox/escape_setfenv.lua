-- setfenv to swap a function's environment (not provided in any mode)
-- expect all: 500 attempt to call
setfenv(1, {})
return kong.response.exit(200, "swapped")
