-- os.date with UTC formats, os.time with tables (TZ=UTC) (11)
local now = 1700000000 local t = os.date('!*t', now) local peak = t.hour >= 8 and t.hour < 20 print(t.hour, peak)
print(os.date('!%U %W %w', 1700000000))
