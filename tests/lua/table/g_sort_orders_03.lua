-- table.sort ascending and with a descending comparator (3)
do local t = {2.5, -1, 0, 1e3, -1e-3} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
do local t = {'b', 'a', 'C', 'B', 'c', 'A'} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
