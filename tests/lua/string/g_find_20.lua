-- string.find over subjects, patterns, init and plain (20)
print(string.find("a^b", "^a%^"))
print(string.find("tab\9here", "%s"))
