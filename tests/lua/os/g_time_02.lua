-- os.date with UTC formats, os.time with tables (TZ=UTC) (2)
print(os.date('!%A %a %B %b %j', 1700000000))
print(os.date('!%c', 86400 * 365))
