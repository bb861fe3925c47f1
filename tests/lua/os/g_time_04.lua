-- os.date with UTC formats, os.time with tables (TZ=UTC) (4)
print(os.date('!%%', 0))
print(os.date('!%H:%M', 1700000000 + 3600 * 5))
