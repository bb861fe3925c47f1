-- string.find over subjects, patterns, init and plain (14)
print(string.find("no parens", "%b()"))
print(string.find("hello hello", "(h%a+) %1"))
