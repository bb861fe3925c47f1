-- every character class and its complement (2)
do local s = {} for m in string.gmatch("MiXeD_case-42.5e3", '%c+') do s[#s + 1] = m end print('%c', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("0xDEADbeef g,h;i", '%C+') do s[#s + 1] = m end print('%C', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
