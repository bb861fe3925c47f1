-- io.open (no files in any mode)
-- expect all: 500 attempt to
local f = io.open("/etc/passwd")
return kong.response.exit(200, "opened")
