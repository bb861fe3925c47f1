-- string.find over subjects, patterns, init and plain (27)
print(string.find("2024-01-15", "(%d+)-(%d+)-(%d+)"))
print(string.find("Bearer abc.def", "^Bearer%s+(.+)$"))
