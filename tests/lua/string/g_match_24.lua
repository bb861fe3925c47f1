-- string.match returns captures or the whole match (24)
print(string.match("a$b", "a$"))
print(string.match("path/to/file.txt", "([^/]+)$"))
