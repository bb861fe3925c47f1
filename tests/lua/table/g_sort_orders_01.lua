-- table.sort ascending and with a descending comparator (1)
do local t = {3, 1, 2} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
do local t = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
