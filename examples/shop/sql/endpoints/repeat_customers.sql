-- GET /api/shop/customers/repeat: customers with a paid order in the window,
-- and the share of them with two or more.
with c as (
    select customer_id, count(*) as orders
    from shop.order_totals
    where status = 'paid'
      and order_date between :date_from and :date_to
    group by customer_id
)
select count(*)                                        as customers,
       count(*) filter (where orders >= 2)             as repeat_customers,
       round(100.0 * count(*) filter (where orders >= 2) / nullif(count(*), 0), 2) as repeat_pct
from c;
