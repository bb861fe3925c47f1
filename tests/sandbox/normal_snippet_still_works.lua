-- an ordinary snippet: header check, string work, JSON exit
-- expect all: 200 {"user":"ALICE"}
local user = (kong.request.get_header("x-user") or "alice"):upper()
return kong.response.exit(200, { user = user })
