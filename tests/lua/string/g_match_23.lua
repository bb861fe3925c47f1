-- string.match returns captures or the whole match (23)
print(string.match("hello", "lo", 100))
print(string.match("a$b", "$b"))
