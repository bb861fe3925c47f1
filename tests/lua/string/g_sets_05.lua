-- bracket sets: ranges, negation, classes, special characters (5)
print("[%%]", (string.gsub('a-b+c]d%e 1.5_f', "[%%]", '#')))
print("[a-]", (string.gsub('a-b+c]d%e 1.5_f', "[a-]", '#')))
