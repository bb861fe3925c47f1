-- every character class and its complement (10)
do local s = {} for m in string.gmatch("MiXeD_case-42.5e3", '%x+') do s[#s + 1] = m end print('%x', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("0xDEADbeef g,h;i", '%X+') do s[#s + 1] = m end print('%X', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
