-- string.find over subjects, patterns, init and plain (16)
print(string.find("aaa", "a-$"))
print(string.find("aaa", "a*"))
