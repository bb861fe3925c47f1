-- every character class and its complement (9)
do local s = {} for m in string.gmatch("Hello, World! 123", '%w+') do s[#s + 1] = m end print('%w', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("\9tabs\nand\13control\1chars", '%W+') do s[#s + 1] = m end print('%W', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
