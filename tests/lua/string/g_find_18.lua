-- string.find over subjects, patterns, init and plain (18)
print(string.find("abc123", "[^%a]+"))
print(string.find("a-b_c", "[%w_]+"))
