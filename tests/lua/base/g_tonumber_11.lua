-- tonumber with and without a base (11)
print(tonumber(nil))
print(tonumber({}))
