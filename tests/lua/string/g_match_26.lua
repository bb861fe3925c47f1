-- string.match returns captures or the whole match (26)
print(string.match("Bearer abc.def", "^Bearer%s+(.+)$"))
print(string.match("192.168.1.10", "^(%d+)%.(%d+)%.(%d+)%.(%d+)$"))
