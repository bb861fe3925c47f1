-- string.find over subjects, patterns, init and plain (24)
print(string.find("hello", "l", -100))
print(string.find("hello", "lo", 100))
