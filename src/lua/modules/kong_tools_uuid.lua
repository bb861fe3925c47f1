-- kong.tools.uuid, as Kong 3.10's kong/tools/uuid.lua: uuid (resty.jit-uuid's
-- generate_v4) and is_valid_uuid (any lowercase or uppercase hex 8-4-4-4-12).
local uuid = require "resty.jit-uuid"
local re_find = ngx.re.find
local type = type

local uuid_regex = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

local M = {}

M.uuid = uuid.generate_v4

function M.is_valid_uuid(str)
  if type(str) ~= 'string' or #str ~= 36 then
    return false
  end
  return re_find(str, uuid_regex, 'ioj') ~= nil
end

return M
