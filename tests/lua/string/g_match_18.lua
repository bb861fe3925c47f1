-- string.match returns captures or the whole match (18)
print(string.match("a^b", "[%^]"))
print(string.match("a^b", "^a%^"))
