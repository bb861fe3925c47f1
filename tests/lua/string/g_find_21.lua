-- string.find over subjects, patterns, init and plain (21)
print(string.find("UPPER lower", "%u+"))
print(string.find("UPPER lower", "%l+"))
