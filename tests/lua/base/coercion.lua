-- strings convert to numbers in arithmetic, numbers to strings in concatenation
print('10' + 1, '3' * '4', 10 .. 20, '2' ^ 2, -'2')
print('0x10' + 0, '1e1' / 2, '1.5' * 2)
print(pcall(function() return 'abc' + 1 end) == false)
print(1 .. '', 1.5 .. '|', -3 .. '')
