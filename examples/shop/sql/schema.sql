-- The shop: customers, products, orders and their lines, and one
-- materialized view of order totals (filled by sql/refresh.sql).
create schema if not exists shop;

create table shop.customers (
    customer_id integer primary key,
    email       text not null,
    country     text,                 -- ISO code; NULL or lower case in old records
    signup_date date not null
);

create table shop.products (
    product_id integer primary key,
    name       text not null,
    category   text not null,
    price      numeric(10,2) not null
);

create table shop.orders (
    order_id    bigint primary key,
    customer_id integer not null references shop.customers,
    ordered_at  timestamp not null,
    status      text not null          -- paid | refunded | cancelled (| PAID from an old client)
);

create table shop.order_items (
    order_id   bigint not null references shop.orders,
    line       integer not null,
    product_id integer not null references shop.products,
    quantity   integer not null,
    unit_price numeric(10,2) not null,
    primary key (order_id, line)
);

-- One row per order: its day, normalised status, item count and total.
create materialized view shop.order_totals as
select o.order_id,
       o.customer_id,
       o.ordered_at::date        as order_date,
       lower(o.status)           as status,
       count(*)::integer         as items,
       sum(i.quantity * i.unit_price) as total
from shop.orders o
join shop.order_items i using (order_id)
group by 1, 2, 3, 4
with no data;
