-- string.match returns captures or the whole match (19)
print(string.match("tab\9here", "%s"))
print(string.match("UPPER lower", "%u+"))
