-- every character class and its complement (1)
do local s = {} for m in string.gmatch("Hello, World! 123", '%a+') do s[#s + 1] = m end print('%a', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("\9tabs\nand\13control\1chars", '%A+') do s[#s + 1] = m end print('%A', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
