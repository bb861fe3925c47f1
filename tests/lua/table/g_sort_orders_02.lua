-- table.sort ascending and with a descending comparator (2)
do local t = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
do local t = {5, 5, 5, 1, 1} table.sort(t) print(table.concat(t, ' ')) table.sort(t, function(x, y) return x > y end) print(table.concat(t, ' ')) end
