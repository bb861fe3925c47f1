-- string.find over subjects, patterns, init and plain (10)
print(string.find("x=1, y=2", "(%w+)=(%w+)", 5))
print(string.find("abc", "()b()"))
