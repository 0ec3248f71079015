create schema shop;
create table shop.leads (
    id         bigint primary key,
    created_on date not null,
    platform   text,             -- meta | google | direct | NULL
    amount     numeric(10, 2)
);
