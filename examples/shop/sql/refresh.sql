-- After every load: the view of order totals, fresh statistics.
refresh materialized view shop.order_totals;
create index if not exists order_totals_date_idx on shop.order_totals (order_date);
analyze shop.order_totals;
