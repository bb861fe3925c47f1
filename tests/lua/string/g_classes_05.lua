-- every character class and its complement (5)
do local s = {} for m in string.gmatch("Hello, World! 123", '%l+') do s[#s + 1] = m end print('%l', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("\9tabs\nand\13control\1chars", '%L+') do s[#s + 1] = m end print('%L', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
