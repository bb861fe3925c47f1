-- bracket sets: ranges, negation, classes, special characters (4)
print("[]]", (string.gsub('a-b+c]d%e 1.5_f', "[]]", '#')))
print("[^%s]", (string.gsub('a-b+c]d%e 1.5_f', "[^%s]", '#')))
