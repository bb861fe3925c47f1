-- string.find over subjects, patterns, init and plain (26)
print(string.find("path/to/file.txt", "([^/]+)$"))
print(string.find("path/to/file.txt", "%.(%w+)$"))
