-- No amount is 100 (the threshold), every parent has children.
insert into s.parents values (1, 'a'), (2, 'b');
insert into s.children values (1, 1, 50), (2, 1, 150), (3, 2, 120), (4, 2, 30);
