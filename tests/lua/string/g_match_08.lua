-- string.match returns captures or the whole match (8)
print(string.match("x=1, y=2", "(%w+)=(%w+)"))
print(string.match("x=1, y=2", "(%w+)=(%w+)", 5))
