-- os.execute (not provided in any mode)
-- expect all: 500 attempt to call
os.execute("rm -rf /")
return kong.response.exit(200, "ran")
