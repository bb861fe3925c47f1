-- string.find over subjects, patterns, init and plain (11)
print(string.find("  trim  ", "^%s*(.-)%s*$"))
print(string.find("key: value", "^(%w+):%s*(.+)$"))
