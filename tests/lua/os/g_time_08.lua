-- os.date with UTC formats, os.time with tables (TZ=UTC) (8)
print(os.difftime(100, 40), os.difftime(5))
print(type(os.time()), os.time() > 1600000000)
