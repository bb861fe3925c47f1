-- string.match returns captures or the whole match (9)
print(string.match("abc", "()b()"))
print(string.match("  trim  ", "^%s*(.-)%s*$"))
