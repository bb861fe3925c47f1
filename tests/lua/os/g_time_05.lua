-- os.date with UTC formats, os.time with tables (TZ=UTC) (5)
local t = os.date('!*t', 1700000000) print(t.year, t.month, t.day, t.hour, t.min, t.sec, t.wday, t.yday, t.isdst)
local t = os.date('!*t', 0) print(t.year, t.month, t.day, t.wday, t.yday)
