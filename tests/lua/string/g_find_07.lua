-- string.find over subjects, patterns, init and plain (7)
print(string.find("", "a"))
print(string.find("a.b.c", ".", 1, true))
