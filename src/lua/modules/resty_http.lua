-- resty.http (lua-resty-http 0.17.2, lib/resty/http.lua): its client API on the host's
-- outbound calls (proxy_http_call) instead of a cosocket. A call suspends the chunk and
-- the request until the host answers; results and error strings are lua-resty-http's
-- (nil, err on failure). The host reads each response whole, so connect/request only
-- record what to call, the call happens when the response is wanted, and body_reader
-- hands out the body it already has. Connections are the host's: set_keepalive and
-- close only end the client's use of one.
local natives = select(2, ...)
local http_headers = require "resty.http_headers"

local type, tostring, tonumber, pairs, ipairs, setmetatable, select =
  type, tostring, tonumber, pairs, ipairs, setmetatable, select
local str_lower, str_upper, str_sub, str_find, str_match =
  string.lower, string.upper, string.sub, string.find, string.match
local tbl_concat = table.concat
local http_call, check_context = natives.http_call, natives.check_context

local _M = { _VERSION = "0.17.2" }
_M._USER_AGENT = "lua-resty-http/" .. _M._VERSION .. " (Lua) ngx_lua/" .. ngx.config.ngx_lua_version

local mt = { __index = _M }

-- Reason phrases nginx's status lines carry (ngx_http_header_filter_module.c); the
-- host hands over the status code only.
local REASONS = {
  [100] = "Continue", [101] = "Switching Protocols",
  [200] = "OK", [201] = "Created", [202] = "Accepted", [203] = "Non-Authoritative Information",
  [204] = "No Content", [206] = "Partial Content",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other", [304] = "Not Modified",
  [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Not Allowed", [406] = "Not Acceptable", [408] = "Request Time-out",
  [409] = "Conflict", [410] = "Gone", [411] = "Length Required", [412] = "Precondition Failed",
  [413] = "Request Entity Too Large", [414] = "Request-URI Too Large", [415] = "Unsupported Media Type",
  [416] = "Requested Range Not Satisfiable", [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Temporarily Unavailable", [504] = "Gateway Time-out",
}

-- ngx.socket.tcp() fails outside the contexts that allow cosockets (raises
-- "API disabled in the context of ..."), and so does new().
function _M.new(_)
  check_context()
  return setmetatable({ keepalive = true, reused = 0 }, mt)
end

-- settimeout(ms): one timeout for connect, send and read; the host's call is bound by
-- their sum (nginx bounds each step by its own).
function _M.set_timeout(self, timeout)
  self.timeout = tonumber(timeout)
end

function _M.set_timeouts(self, connect_timeout, send_timeout, read_timeout)
  local total = (tonumber(connect_timeout) or 0) + (tonumber(send_timeout) or 0) + (tonumber(read_timeout) or 0)
  self.timeout = total > 0 and total or nil
end

function _M.set_proxy_options(self, opts)
  self.proxy_opts = opts
end

function _M.ssl_handshake(self, _reused_session, server_name, ssl_verify)
  self.ssl = true
  self.ssl_server_name = server_name
  self.ssl_verify = ssl_verify
  return true
end

-- connect(options) or connect(host, port[, options]): records the peer; the host
-- connects when the request is made.
function _M.connect(self, options, ...)
  local host, port, scheme
  if type(options) == "table" then
    host, port, scheme = options.host, options.port, options.scheme
    if scheme == "https" or options.ssl_server_name then
      self.ssl = true
    end
  else
    host, port = options, select(1, ...)
  end
  if type(host) ~= "string" or host == "" then
    return nil, "no host"
  end
  if str_sub(host, 1, 5) == "unix:" then
    return nil, "unix domain sockets are not available to outbound calls"
  end
  self.host = host
  port = tonumber(port)
  self.port = port or (self.ssl and 443 or 80)
  self.keepalive = true
  self.connected = true
  return true
end

function _M.set_keepalive(self)
  if not self.connected then
    return nil, "closed"
  end
  self.connected = false
  if self.keepalive == true then
    return 1
  end
  return 2, "connection must be closed"
end

function _M.get_reused_times(self)
  if not self.connected then
    return nil, "closed"
  end
  return self.reused
end

function _M.close(self)
  if not self.connected then
    return nil, "closed"
  end
  self.connected = false
  return 1
end

local function should_receive_body(method, code)
  if method == "HEAD" then return nil end
  if code == 204 or code == 304 then return nil end
  if code >= 100 and code < 200 then return nil end
  return true
end

-- lua-resty-http's parse_uri: scheme, host, port, path and query of an absolute URI
-- (a schemeless //host URI takes the current request's scheme).
function _M.parse_uri(_, uri, query_in_path)
  if query_in_path == nil then query_in_path = true end
  if type(uri) ~= "string" then
    return nil, "bad uri: " .. tostring(uri)
  end
  local scheme, rest = str_match(uri, "^(https?):(//.*)$")
  if not scheme then
    if str_sub(uri, 1, 2) ~= "//" then
      return nil, "bad uri: " .. uri
    end
    rest = uri
    local ok, current = pcall(function() return ngx.var.scheme end)
    if ok and (current == "http" or current == "https") then
      scheme = current
    else
      return nil, "schemaless URIs require a request context: " .. uri
    end
  end
  local host, after = str_match(rest, "^//(%[.-%])(.*)$")
  if not host then
    host, after = str_match(rest, "^//([^%[%]:/%?]+)(.*)$")
  end
  if not host then
    return nil, "bad uri: " .. uri
  end
  -- user:pass@ before the host (lua-resty-http keeps the host after the @).
  local at = str_find(host, "@", 1, true)
  if at then host = str_sub(host, at + 1) end
  local port, tail = str_match(after, "^:(%d+)(.*)$")
  if port then
    after = tail
    port = tonumber(port)
  else
    port = scheme == "https" and 443 or 80
  end
  local path, query = str_match(after, "^([^%?]*)%??(.*)$")
  if not path or path == "" then path = "/" end
  if query_in_path and query and query ~= "" then
    path = path .. "?" .. query
    query = nil
  end
  return { scheme, host, port, path, query }
end

local function encode_query(query)
  if type(query) == "table" then
    return ngx.encode_args(query)
  end
  return tostring(query or "")
end

-- The request as the native takes it: {name, value} pairs, lua-resty-http's minimal
-- headers added (User-Agent; Host comes from the authority).
local function call_params(self, params)
  local method = str_upper(params.method or "GET")
  local path = params.path or "/"
  local query = encode_query(params.query)
  if query ~= "" then
    if str_sub(query, 1, 1) ~= "?" then query = "?" .. query end
    path = path .. query
  end
  local list = {}
  local has_user_agent = false
  local headers = params.headers
  if type(headers) == "table" then
    for name, value in pairs(headers) do
      name = tostring(name)
      local lower = str_lower(name)
      if lower == "user-agent" then has_user_agent = true end
      if lower == "host" then
        -- A Host header names the authority the request is sent with.
        self.host_header = tostring(value)
      elseif type(value) == "table" then
        for _, v in ipairs(value) do
          list[#list + 1] = { name, tostring(v) }
        end
      else
        list[#list + 1] = { name, tostring(value) }
      end
    end
  end
  if not has_user_agent then
    list[#list + 1] = { "User-Agent", _M._USER_AGENT }
  end
  local body = params.body
  if type(body) == "function" then
    local parts = {}
    repeat
      local chunk, err = body()
      if chunk then
        parts[#parts + 1] = chunk
      elseif err ~= nil then
        return nil, err
      end
    until chunk == nil
    body = tbl_concat(parts)
  elseif type(body) == "table" then
    body = tbl_concat(body)
  elseif body ~= nil then
    body = tostring(body)
  end
  return {
    method = method,
    scheme = self.ssl and "https" or "http",
    host = self.host,
    port = self.port,
    path = path,
    authority = self.host_header,
    headers = list,
    body = body,
    timeout = self.timeout,
  }
end

local function body_reader(body)
  local done = false
  local offset = 1
  return function(max_chunk_size)
    if done then return nil end
    max_chunk_size = tonumber(max_chunk_size)
    if not max_chunk_size or max_chunk_size <= 0 or offset + max_chunk_size > #body then
      done = true
      local rest = str_sub(body, offset)
      if rest == "" and offset > 1 then return nil end
      return rest
    end
    local chunk = str_sub(body, offset, offset + max_chunk_size - 1)
    offset = offset + max_chunk_size
    return chunk
  end
end

local function read_body(res)
  local reader = res.body_reader
  if not reader then
    return nil, "no body to be read"
  end
  local chunks = {}
  repeat
    local chunk = reader()
    if chunk then chunks[#chunks + 1] = chunk end
  until not chunk
  return tbl_concat(chunks)
end

local function read_trailers(_)
  return nil, "no trailers"
end

-- get_client_body_reader(chunksize?, sock?, headers?): an iterator over the downstream
-- request body, chunks of at most chunksize bytes (65536 by default), then nil.
-- lua-resty-http reads it from ngx.req.socket(); here the host hands the filter the
-- body whole, so the iterator walks what ngx.req.get_body_data() holds. As there: nil
-- (no error) when the request has no Content-Length (nor chunked body) or no body;
-- nil, err where ngx.req.socket is disabled (outside rewrite/access), its pcall'd error.
function _M.get_client_body_reader(_, chunksize, _sock, headers)
  chunksize = chunksize or 65536
  local ok, err = pcall(check_context)
  if not ok then
    return nil, err
  end
  if not headers then
    headers = ngx.req.get_headers()
  end
  local length = headers["Content-Length"]
  local te = headers["Transfer-Encoding"]
  local chunked = type(te) == "string" and str_find(str_lower(te), "chunked", 1, true)
  if not length and not chunked then
    return nil
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body or body == "" then
    return nil
  end
  local offset = 1
  return function(max_chunk_size)
    max_chunk_size = tonumber(max_chunk_size) or chunksize
    if offset > #body then
      return nil
    end
    local chunk = str_sub(body, offset, offset + max_chunk_size - 1)
    offset = offset + #chunk
    return chunk
  end
end

-- Makes the call (suspending the chunk until the host answers) and stores the response.
function _M.send_request(self, params)
  params = params or {}
  if not self.connected then
    return nil, "closed"
  end
  local call, err = call_params(self, params)
  if not call then return nil, err end
  local status, pairs_list, body = http_call(call)
  if not status then
    self.connected = false
    return nil, pairs_list
  end
  local headers = http_headers.new()
  for _, pair in ipairs(pairs_list) do
    local name, value = pair[1], pair[2]
    local existing = headers[name]
    if existing == nil then
      headers[name] = value
    elseif type(existing) == "table" then
      existing[#existing + 1] = value
    else
      headers[name] = { existing, value }
    end
  end
  local connection = headers["Connection"]
  if type(connection) == "string" and str_lower(connection) == "close" then
    self.keepalive = false
  end
  self.response = { status = status, headers = headers, body = body, method = call.method }
  self.reused = self.reused + 1
  return true
end

function _M.read_response(self, _params)
  local response = self.response
  if not response then
    return nil, "no response"
  end
  self.response = nil
  local res = {
    status = response.status,
    reason = REASONS[response.status] or "",
    headers = response.headers,
    has_body = false,
    body_reader = nil,
    read_body = read_body,
    read_trailers = read_trailers,
  }
  if should_receive_body(response.method, response.status) then
    res.has_body = true
    res.body_reader = body_reader(response.body)
  end
  return res
end

function _M.request(self, params)
  local ok, err = self:send_request(params)
  if not ok then
    return nil, err
  end
  return self:read_response(params)
end

function _M.request_pipeline(self, requests)
  local responses = {}
  for i, params in ipairs(requests) do
    local ok, err = self:send_request(params)
    if not ok then return nil, err end
    responses[i] = self:read_response(params)
  end
  return responses
end

-- request_uri(uri, params): the whole exchange; res.body holds the body.
function _M.request_uri(self, uri, params)
  params = params or {}
  local parsed, err = self:parse_uri(uri, false)
  if not parsed then
    return nil, err
  end
  local scheme, host, port, path, query = parsed[1], parsed[2], parsed[3], parsed[4], parsed[5]
  if not params.path then params.path = path end
  if not params.query then params.query = query end
  local ok, cerr = self:connect({ scheme = scheme, host = host, port = port,
                                 ssl_verify = params.ssl_verify, ssl_server_name = params.ssl_server_name })
  if not ok then
    return nil, cerr
  end
  local res, rerr = self:request(params)
  if not res then
    self:close()
    return nil, rerr
  end
  local body, berr = res:read_body()
  if not body and res.has_body then
    self:close()
    return nil, berr
  end
  res.body = body
  if params.keepalive == false then
    self:close()
  else
    self:set_keepalive(params.keepalive_timeout, params.keepalive_pool)
  end
  return res, nil
end

return _M
