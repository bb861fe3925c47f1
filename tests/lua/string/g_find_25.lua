-- string.find over subjects, patterns, init and plain (25)
print(string.find("a$b", "$b"))
print(string.find("a$b", "a$"))
