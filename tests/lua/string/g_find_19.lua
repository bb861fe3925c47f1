-- string.find over subjects, patterns, init and plain (19)
print(string.find("x]y", "[]]"))
print(string.find("a^b", "[%^]"))
