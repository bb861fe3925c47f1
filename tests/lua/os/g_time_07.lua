-- os.date with UTC formats, os.time with tables (TZ=UTC) (7)
print(os.time({year = 2021, month = 13, day = 1, hour = 0}))
print(os.time({year = 2021, month = 3, day = 0, hour = 0}))
