-- string.match returns captures or the whole match (25)
print(string.match("path/to/file.txt", "%.(%w+)$"))
print(string.match("2024-01-15", "(%d+)-(%d+)-(%d+)"))
