-- Created after the bulk load.
create index if not exists orders_ordered_at_idx on shop.orders (ordered_at);
create index if not exists orders_customer_idx on shop.orders (customer_id);
create index if not exists order_items_product_idx on shop.order_items (product_id);
