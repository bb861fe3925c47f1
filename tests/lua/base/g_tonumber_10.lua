-- tonumber with and without a base (10)
print(tonumber(10))
print(tonumber("abc"))
