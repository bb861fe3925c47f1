-- Get list of request headers
local custom_auth = kong.request.get_header("x-custom-auth")

-- Terminate request early if the custom authentication header
-- does not exist
if not custom_auth then
  return kong.response.exit(401, "Invalid Credentials")
end

-- Remove custom authentication header from request
kong.service.request.clear_header('x-custom-auth')
