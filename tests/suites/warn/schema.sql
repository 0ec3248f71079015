create schema shop;
create table shop.sales (
  id int primary key,
  day date not null,
  channel text,
  amount numeric(12,2) not null,
  day_txt text
);
