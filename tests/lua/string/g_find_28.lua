-- string.find over subjects, patterns, init and plain (28)
print(string.find("192.168.1.10", "^(%d+)%.(%d+)%.(%d+)%.(%d+)$"))
print(string.find("a,b,,c", ",,", 1, true))
