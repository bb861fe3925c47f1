-- os.date with UTC formats, os.time with tables (TZ=UTC) (6)
print(os.time({year = 2020, month = 1, day = 1, hour = 0}))
print(os.time({year = 2000, month = 2, day = 29, hour = 12, min = 30, sec = 15}))
