-- os.date with UTC formats, os.time with tables (TZ=UTC) (12)
print(os.date('!%d/%m/%Y', 951782400))
