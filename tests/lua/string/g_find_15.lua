-- string.find over subjects, patterns, init and plain (15)
print(string.find("abab", "(ab)%1"))
print(string.find("aaa", "a-"))
