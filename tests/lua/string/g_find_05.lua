-- string.find over subjects, patterns, init and plain (5)
print(string.find("hello", ""))
print(string.find("hello", "", 10))
