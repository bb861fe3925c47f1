-- ngx.re (lua-resty-core's lib/ngx/re.lua): `split` and `opt`, ported line for line
-- with its FFI search step (`ngx_http_lua_ffi_exec_regex` on the compiled regex) as the
-- native `re_split_exec(subj, regex, opts, pos)`: 0-based `from, to, capture`, nil for no
-- match, or nil, nil, nil, err; without `pos` it only compiles the regex.
-- `split(subject, regex, opts?, ctx?, max?, res?)` answers the pieces between matches
-- (and each match's first capture), drops trailing empty pieces unless `max` > 0, and
-- answers nil, err for a bad regex or a failed match.
local _, native = ...
local split_exec = native.re_split_exec
local sub, tostring, type, error = string.sub, tostring, type, error
local math_max = math.max

local split_ctx = {}

local function re_split_helper(subj, regex, opts, ctx)
  local pos = math_max(ctx.pos, 0)
  local from, to, capture, err = split_exec(subj, regex, opts, pos)
  if err then
    return nil, nil, nil, err
  end
  if not from then
    return nil, nil, nil
  end
  if from == to then
    -- empty match, skip to next char
    ctx.pos = to + 1
  else
    ctx.pos = to
  end
  -- convert to Lua string indexes
  return from + 1, to + 1, capture
end

local function split(subj, regex, opts, ctx, max, res)
  subj = tostring(subj)
  if not ctx then
    ctx = split_ctx
    ctx.pos = 1 -- set or reset upvalue field
  elseif not ctx.pos then
    -- ctx provided by user but missing pos field
    ctx.pos = 1
  end
  max = max or 0
  if not res then
    res = {}
  elseif type(res) ~= "table" then
    error("res is not a table", 2)
  end
  local len = #subj
  if ctx.pos > len then
    res[1] = nil
    return res
  end
  -- compile regex
  local _, _, _, cerr = split_exec(subj, regex, opts)
  if cerr then
    return nil, cerr
  end
  local sub_idx = ctx.pos
  local res_idx = 0
  local last_empty_match
  -- update to split_helper PCRE indexes
  ctx.pos = sub_idx - 1
  -- splitting: with and without a max limiter (one loop: `count` only counts with max)
  local count = 1
  while max <= 0 or count < max do
    local from, to, capture, err = re_split_helper(subj, regex, opts, ctx)
    if err then
      return nil, err
    end
    if not from then
      break
    end
    if last_empty_match then
      sub_idx = last_empty_match
    end
    if from == to then
      last_empty_match = from
    end
    if from > sub_idx or not last_empty_match then
      count = count + 1
      res_idx = res_idx + 1
      res[res_idx] = sub(subj, sub_idx, from - 1)
      if capture then
        res_idx = res_idx + 1
        res[res_idx] = capture
      end
      sub_idx = to
      if sub_idx > len then
        break
      end
    end
  end
  -- trailing nil for non-cleared res tables
  -- delete empty trailing ones (without max)
  if max <= 0 and sub_idx > len then
    for ety_idx = res_idx, 1, -1 do
      if res[ety_idx] ~= "" then
        res_idx = ety_idx
        break
      end
      res[ety_idx] = nil
    end
  else
    res_idx = res_idx + 1
    res[res_idx] = sub(subj, sub_idx)
  end
  res[res_idx + 1] = nil
  return res
end

-- Only "jit_stack_size" is an option; there is no PCRE JIT (nor its stack) in wasm, so
-- setting it has no effect (Kong's OpenResty has a JIT and accepts it).
local function opt(option, value)
  if option == "jit_stack_size" then
    return
  end
  error("unrecognized option name", 2)
end

return { split = split, opt = opt }
