-- tonumber with and without a base (6)
print(tonumber(".5"))
print(tonumber("5."))
