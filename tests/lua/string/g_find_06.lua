-- string.find over subjects, patterns, init and plain (6)
print(string.find("hello", "", 6))
print(string.find("", ""))
