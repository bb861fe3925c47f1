-- string.find over subjects, patterns, init and plain (13)
print(string.find("f(a(b)c)d", "%b()"))
print(string.find("[[x]]", "%b[]"))
