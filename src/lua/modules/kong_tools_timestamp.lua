-- kong.tools.timestamp, as Kong 3.10's kong/tools/timestamp.lua (after luatz's
-- timetable): UTC times in milliseconds and per-period timestamps. The time-table has
-- luatz's fields (year month day hour min sec yday wday) and a `timestamp()` method that
-- normalises out-of-range fields.
local floor = math.floor
local tablex = require("pl.tablex")

-- Days since 1970-01-01 of a proleptic Gregorian date (month may be out of 1..12).
local function days_from_civil(y, m, d)
  y = y + floor((m - 1) / 12)
  m = (m - 1) % 12 + 1
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local timetable_mt = {}
timetable_mt.__index = timetable_mt

function timetable_mt:timestamp()
  local days = days_from_civil(self.year, self.month, 1) + (self.day - 1)
  return days * 86400 + self.hour * 3600 + self.min * 60 + self.sec
end

local function from_timestamp(ts)
  local days = floor(ts / 86400)
  local rem = ts - days * 86400
  local y, m, d = civil_from_days(days)
  local tt = {
    year = y, month = m, day = d,
    hour = floor(rem / 3600), min = floor(rem % 3600 / 60), sec = rem % 60,
    yday = days - days_from_civil(y, 1, 1) + 1,
    wday = (days + 4) % 7 + 1,
  }
  return setmetatable(tt, timetable_mt)
end

local MS_CHECK = days_from_civil(20000, 1, 1) * 86400

local function get_utc()
  return floor(ngx.now()) * 1000
end

local function get_utc_ms()
  return ngx.now() * 1000
end

-- `now` (default: now) in seconds, or in milliseconds past the year 20000's seconds.
local function get_timetable(now)
  local ts = now or get_utc()
  if ts > MS_CHECK then
    return from_timestamp(ts / 1000)
  end
  return from_timestamp(ts)
end

local function get_timestamps(now)
  local tt = get_timetable(now)
  local stamps = {}
  tt.sec = floor(tt.sec)
  stamps.second = tt:timestamp() * 1000
  tt.sec = 0
  stamps.minute = tt:timestamp() * 1000
  tt.min = 0
  stamps.hour = tt:timestamp() * 1000
  tt.hour = 0
  stamps.day = tt:timestamp() * 1000
  tt.day = 1
  stamps.month = tt:timestamp() * 1000
  tt.month = 1
  stamps.year = tt:timestamp() * 1000
  return stamps
end

return {
  get_utc = get_utc,
  get_utc_ms = get_utc_ms,
  get_timetable = get_timetable,
  get_timestamps = get_timestamps,
  timestamp_table_fields = tablex.readonly({ "second", "minute", "hour", "day", "month", "year" }),
}
