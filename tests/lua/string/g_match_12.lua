-- string.match returns captures or the whole match (12)
print(string.match("[[x]]", "%b[]"))
print(string.match("no parens", "%b()"))
