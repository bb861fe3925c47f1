-- tonumber with and without a base (20)
print(tonumber("1.5", 10))
print(tonumber("zz", 36))
