-- string.find over subjects, patterns, init and plain (9)
print(string.find("a+b", "a+", 1, true))
print(string.find("x=1, y=2", "(%w+)=(%w+)"))
