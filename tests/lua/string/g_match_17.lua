-- string.match returns captures or the whole match (17)
print(string.match("a-b_c", "[%w_]+"))
print(string.match("x]y", "[]]"))
