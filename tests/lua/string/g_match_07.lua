-- string.match returns captures or the whole match (7)
print(string.match("", "a"))
print(string.match("a.b.c", "%."))
