-- compile errors: the position matches Lua's, the wording is piccolo's parser's
print(loadstring("syntax error here"))
print(loadstring("x = = 1"))
print(loadstring("if x then"))
