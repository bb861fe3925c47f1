-- string.find over subjects, patterns, init and plain (2)
print(string.find("hello world", "o", -3))
print(string.find("hello world", "l+"))
