-- string.find over subjects, patterns, init and plain (23)
print(string.find("ctl\1x", "%c"))
print(string.find("a1 b2", "%a%d", -2))
