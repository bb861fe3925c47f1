-- every character class and its complement (7)
do local s = {} for m in string.gmatch("Hello, World! 123", '%s+') do s[#s + 1] = m end print('%s', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("\9tabs\nand\13control\1chars", '%S+') do s[#s + 1] = m end print('%S', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
