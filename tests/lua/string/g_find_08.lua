-- string.find over subjects, patterns, init and plain (8)
print(string.find("a.b.c", "%."))
print(string.find("a+b", "+", 1, true))
