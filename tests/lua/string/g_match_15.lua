-- string.match returns captures or the whole match (15)
print(string.match("aaa", "a*"))
print(string.match("aaa", "a?a?a?a?"))
