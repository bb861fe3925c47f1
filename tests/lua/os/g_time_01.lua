-- os.date with UTC formats, os.time with tables (TZ=UTC) (1)
print(os.date('!%Y-%m-%d %H:%M:%S', 0))
print(os.date('!%Y-%m-%d %H:%M:%S', 1700000000))
