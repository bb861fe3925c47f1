-- string.find over subjects, patterns, init and plain (1)
print(string.find("hello world", "o"))
print(string.find("hello world", "o", 6))
