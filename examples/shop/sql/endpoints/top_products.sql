-- GET /api/shop/products/top: the best-selling products of the window by
-- paid revenue (the status is compared ignoring case: old clients wrote PAID).
select p.product_id,
       p.name,
       p.category,
       sum(i.quantity)::bigint             as units,
       sum(i.quantity * i.unit_price)      as revenue
from shop.order_items i
join shop.orders o using (order_id)
join shop.products p using (product_id)
where lower(o.status) = 'paid'
  and o.ordered_at >= :date_from
  and o.ordered_at < :date_to + 1
group by p.product_id, p.name, p.category
order by revenue desc, p.product_id
limit :limit;
