-- string.match returns captures or the whole match (13)
print(string.match("hello hello", "(h%a+) %1"))
print(string.match("abab", "(ab)%1"))
