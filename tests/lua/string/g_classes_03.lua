-- every character class and its complement (3)
do local s = {} for m in string.gmatch("Hello, World! 123", '%d+') do s[#s + 1] = m end print('%d', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("\9tabs\nand\13control\1chars", '%D+') do s[#s + 1] = m end print('%D', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
