-- rawset past a read-only module
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 200 changed
rawset(string, "upper", nil)
return kong.response.exit(200, "changed")
