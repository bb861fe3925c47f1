-- os.date with UTC formats, os.time with tables (TZ=UTC) (3)
print(os.date('!%x %X %p', 3600 * 13))
print(os.date('!%y %m %d %I %M %S', 1234567890))
