-- every character class and its complement (6)
do local s = {} for m in string.gmatch("MiXeD_case-42.5e3", '%p+') do s[#s + 1] = m end print('%p', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("0xDEADbeef g,h;i", '%P+') do s[#s + 1] = m end print('%P', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
