-- table.sort ascending and with a descending comparator (4)
do local t = {'10', '9', '100', '1'} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
do local t = {0, -0.5, 0.5, -1, 1} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
