-- kong.meta: Kong's kong/meta.lua shape, with the version this gateway reports
-- (kong.version: the host's on Kong, the PDK version this filter follows elsewhere).
local text = tostring(kong and kong.version or "3.10.0")
local major, minor, patch, suffix = text:match("^(%d+)%.(%d+)%.(%d+)(.*)$")
local version = setmetatable({
  major = tonumber(major) or 0,
  minor = tonumber(minor) or 0,
  patch = tonumber(patch) or 0,
  suffix = (suffix ~= nil and suffix ~= "") and suffix or nil,
}, {
  __tostring = function(t)
    return string.format("%d.%d.%d%s", t.major, t.minor, t.patch, t.suffix or "")
  end,
})

return {
  _NAME = "kong",
  _VERSION = tostring(version),
  _VERSION_TABLE = version,
  _SERVER_TOKENS = "kong/" .. tostring(version),
  version = tostring(version),
  _DEPENDENCIES = { nginx = { "1.27.1.2" } },
}
