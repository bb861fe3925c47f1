-- os.date with UTC formats, os.time with tables (TZ=UTC) (9)
print(type(os.clock()), os.clock() >= 0)
print(pcall(os.time, {year = 2020}))
