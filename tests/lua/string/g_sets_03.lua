-- bracket sets: ranges, negation, classes, special characters (3)
print("[%a_]", (string.gsub('a-b+c]d%e 1.5_f', "[%a_]", '#')))
print("[-+]", (string.gsub('a-b+c]d%e 1.5_f', "[-+]", '#')))
