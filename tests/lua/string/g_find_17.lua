-- string.find over subjects, patterns, init and plain (17)
print(string.find("aaa", "a?a?a?a?"))
print(string.find("123abc", "%d+"))
