-- resty.jwt-validators (cdbattags/lua-resty-jwt 0.2.4, lib/resty/jwt-validators.lua):
-- validator constructors for jwt:verify's claim specs, each `opt_NAME` (passes on a
-- missing claim) and `NAME` (required): check, equals, matches, any_of, equals_any_of,
-- matches_any_of, contains_any_of, greater_than(_or_equal), less_than(_or_equal),
-- is_not_before, is_not_expired, is_at; plus chain, required, require_one_of,
-- set_system_leeway, set_system_clock. Error messages as the original's.
local _M = { _VERSION = '0.2.4' }

local fmt = string.format

local messages = {
  nil_validator = 'Cannot create validator for nil %s.',
  wrong_type_validator = 'Cannot create validator for non-%s %s.',
  empty_table_validator = 'Cannot create validator for empty table %s.',
  wrong_table_type_validator = 'Cannot create validator for non-%s table %s.',
  required_claim = "'%s' claim is required.",
  wrong_type_claim = "'%s' is malformed.  Expected to be a %s.",
  missing_claim = 'Missing one of claims - [ %s ].',
}

local function fail(e, ...)
  error(fmt(e, ...), 0)
end

local function not_nil(v, e, ...)
  if v == nil then fail(e, ...) end
  return v
end

local function of_type(v, t, e, ...)
  if type(v) ~= t then fail(e, ...) end
  return v
end

local function non_empty_table(v, e, ...)
  of_type(v, 'table', e, ...)
  return not_nil(next(v), e, ...)
end

local function table_of(v, t, e, ...)
  if v ~= nil then
    non_empty_table(v, e, ...)
    for _, x in ipairs(v) do
      of_type(x, t, e, ...)
    end
  end
  return v
end

local function non_negative(v, e, ...)
  if v ~= nil then
    of_type(v, 'number', e, ...)
    if v < 0 then fail(e, ...) end
    return v
  end
end

local function eq(a, b) return a == b end
local function match(a, p) return string.match(a, p) ~= nil end
local function contains(vals, check)
  for _, v in pairs(vals) do
    if v == check then return true end
  end
  return false
end
local function gt(a, b) return a > b end
local function ge(a, b) return a >= b end
local function lt(a, b) return a < b end
local function le(a, b) return a <= b end

-- Defines opt_NAME (fx) and NAME (required, then fx's validator).
local function define(name, fx)
  _M['opt_' .. name] = fx
  _M[name] = function(...) return _M.chain(_M.required(), fx(...)) end
end

function _M.chain(...)
  local fns = { ... }
  for _, f in ipairs(fns) do
    of_type(f, 'function', messages.wrong_type_validator, 'function', 'chain_function')
  end
  return function(val, claim, jwt_json)
    for _, f in ipairs(fns) do
      if f(val, claim, jwt_json) == false then
        return false
      end
    end
    return true
  end
end

function _M.required(chain_function)
  if chain_function ~= nil then
    return _M.chain(_M.required(), chain_function)
  end
  return function(val, claim)
    not_nil(val, messages.required_claim, claim)
    return true
  end
end

function _M.require_one_of(claim_keys)
  not_nil(claim_keys, messages.nil_validator, 'claim_keys')
  of_type(claim_keys, 'table', messages.wrong_type_validator, 'table', 'claim_keys')
  non_empty_table(claim_keys, messages.empty_table_validator, 'claim_keys')
  table_of(claim_keys, 'string', messages.wrong_table_type_validator, 'string', 'claim_keys')
  return function(val, claim)
    of_type(val, 'table', messages.wrong_type_claim, claim, 'table')
    of_type(val.payload, 'table', messages.wrong_type_claim, claim .. '.payload', 'table')
    for _, k in ipairs(claim_keys) do
      if val.payload[k] ~= nil then return true end
    end
    fail(messages.missing_claim, table.concat(claim_keys, ', '))
  end
end

define('check', function(check_val, check_function, name, check_type)
  name = name or 'check_val'
  not_nil(check_val, messages.nil_validator, name)
  not_nil(check_function, messages.nil_validator, 'check_function')
  of_type(check_function, 'function', messages.wrong_type_validator, 'function', 'check_function')
  check_type = check_type or type(check_val)
  return function(val, claim)
    if val == nil then return true end
    of_type(val, check_type, messages.wrong_type_claim, claim, check_type)
    return check_function(val, check_val)
  end
end)

define('equals', function(check_val)
  return _M.opt_check(check_val, eq, 'check_val')
end)

define('matches', function(pattern)
  of_type(pattern, 'string', messages.wrong_type_validator, 'string', 'pattern')
  return _M.opt_check(pattern, match, 'pattern', 'string')
end)

define('any_of', function(check_values, check_function, name, check_type, table_type)
  name = name or 'check_values'
  not_nil(check_values, messages.nil_validator, name)
  of_type(check_values, 'table', messages.wrong_type_validator, 'table', name)
  non_empty_table(check_values, messages.empty_table_validator, name)
  table_type = table_type or type(check_values[1])
  table_of(check_values, table_type, messages.wrong_table_type_validator, table_type, name)
  not_nil(check_function, messages.nil_validator, 'check_function')
  of_type(check_function, 'function', messages.wrong_type_validator, 'function', 'check_function')
  check_type = check_type or table_type
  return _M.opt_check(check_values, function(v1, v2)
    for _, v in ipairs(v2) do
      if check_function(v1, v) then return true end
    end
    return false
  end, name, check_type)
end)

define('equals_any_of', function(check_values)
  return _M.opt_any_of(check_values, eq, 'check_values')
end)

define('matches_any_of', function(patterns)
  return _M.opt_any_of(patterns, match, 'patterns', 'string', 'string')
end)

define('contains_any_of', function(check_values, name)
  return _M.opt_any_of(check_values, contains, name, 'table', 'string')
end)

for name, f in pairs({ greater_than = gt, greater_than_or_equal = ge, less_than = lt, less_than_or_equal = le }) do
  define(name, function(check_val)
    of_type(check_val, 'number', messages.wrong_type_validator, 'number', 'check_val')
    return _M.opt_check(check_val, f, 'check_val', 'number')
  end)
end

local system_leeway = 0
local system_clock = ngx.now

function _M.set_system_leeway(leeway)
  of_type(leeway, 'number', 'leeway must be a non-negative number')
  non_negative(leeway, 'leeway must be a non-negative number')
  system_leeway = leeway
end

function _M.set_system_clock(clock)
  of_type(clock, 'function', 'clock must be a function')
  local t = clock()
  of_type(t, 'number', 'clock function must return a non-negative number')
  non_negative(t, 'clock function must return a non-negative number')
  system_clock = clock
end

local function is_date(val, claim)
  non_negative(val, messages.wrong_type_claim, claim, 'positive numeric value')
  return true
end

local function date_error(check, words)
  return function(val, claim, jwt_json)
    if check(val, claim, jwt_json) == false then
      fail("'%s' claim %s %s", claim, words, ngx.http_time(val))
    end
    return true
  end
end

define('is_not_before', function()
  return date_error(_M.chain(is_date, function(val)
    return val and le(val, system_clock() + system_leeway)
  end), 'not valid until')
end)

define('is_not_expired', function()
  return date_error(_M.chain(is_date, function(val)
    return val and gt(val, system_clock() - system_leeway)
  end), 'expired at')
end)

define('is_at', function()
  return date_error(_M.chain(is_date, function(val)
    local now = system_clock()
    return val and ge(val, now - system_leeway) and le(val, now + system_leeway)
  end), 'is only valid at')
end)

return _M
