create schema shop;
create table shop.sales (
  id int primary key,
  day date not null,
  channel text,
  amount numeric(12,2) not null,
  day_txt text
);
-- a table that breaks every table rule
create table shop.bad (
  id int,
  day date,
  day_txt text,
  code text,
  status text,
  qty int
);
insert into shop.bad values
  (1, date '2025-01-01', '2025-01-01', 'abc', 'ok', 5),
  (1, date '2025-01-02', '2025-02-30', 'BAD CODE', null, -3),
  (2, date '2025-01-03', 'yesterday', 'def', 'weird', 1);
