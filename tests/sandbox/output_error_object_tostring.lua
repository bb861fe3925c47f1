-- an error object whose __tostring loops (only `on` can set it)
-- expect strict,lax,sandbox: 500 attempt to call
-- expect on: 500 error object is a table value
error(setmetatable({}, { __tostring = function() while true do end end }))
