-- string.find over subjects, patterns, init and plain (3)
print(string.find("hello world", "^h"))
print(string.find("hello world", "^w"))
