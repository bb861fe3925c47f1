-- string.match returns captures or the whole match (11)
print(string.match("THE (quick) fox", "%f[%a]%a+", 5))
print(string.match("f(a(b)c)d", "%b()"))
