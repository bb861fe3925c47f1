-- string.match returns captures or the whole match (10)
print(string.match("key: value", "^(%w+):%s*(.+)$"))
print(string.match("THE (quick) fox", "%f[%a]%a+"))
