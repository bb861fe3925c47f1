-- tonumber with and without a base (16)
print(tonumber("FF", 16))
print(tonumber("z", 36))
