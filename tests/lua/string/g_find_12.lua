-- string.find over subjects, patterns, init and plain (12)
print(string.find("THE (quick) fox", "%f[%a]%a+"))
print(string.find("THE (quick) fox", "%f[%a]%a+", 5))
