-- tonumber with and without a base (2)
print(tonumber("0X1f"))
print(tonumber("1e2"))
