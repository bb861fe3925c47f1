-- string.find over subjects, patterns, init and plain (22)
print(string.find("punct!?", "%p+"))
print(string.find("hex 0xFF", "%x+", 5))
