-- string.find over subjects, patterns, init and plain (4)
print(string.find("hello world", "d$"))
print(string.find("hello world", "x"))
