-- bracket sets: ranges, negation, classes, special characters (1)
print("[aeiou]", (string.gsub('a-b+c]d%e 1.5_f', "[aeiou]", '#')))
print("[^aeiou]", (string.gsub('a-b+c]d%e 1.5_f', "[^aeiou]", '#')))
