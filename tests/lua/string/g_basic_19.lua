-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (19)
print(string.upper('mIxEd 123'), string.lower('MiXeD 123'), string.reverse('abc'), string.reverse(''))
print(('abc'):upper(), ('ABC'):lower(), ('abc'):len(), ('abc'):reverse())
