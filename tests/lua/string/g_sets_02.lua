-- bracket sets: ranges, negation, classes, special characters (2)
print("[a-f]", (string.gsub('a-b+c]d%e 1.5_f', "[a-f]", '#')))
print("[%d%.]", (string.gsub('a-b+c]d%e 1.5_f', "[%d%.]", '#')))
