-- tonumber with and without a base (14)
print(tonumber("1e-2"))
print(tonumber("0.000001"))
