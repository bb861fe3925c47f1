-- os.date with UTC formats, os.time with tables (TZ=UTC) (10)
print(os.time({year = 2020, month = 6, day = 15}))
local t = os.date('!*t', 1577836800 + 86400 * 59) print(t.month, t.day)
