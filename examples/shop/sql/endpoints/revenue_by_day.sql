-- GET /api/shop/revenue/daily: paid revenue and orders per day, every day of
-- the window (0 on days without orders).
select d::date                                                    as day,
       coalesce(sum(t.total) filter (where t.status = 'paid'), 0) as revenue,
       count(t.order_id) filter (where t.status = 'paid')         as orders
from generate_series(:date_from::date, :date_to::date, interval '1 day') d
left join shop.order_totals t on t.order_date = d::date
group by 1
order by 1;
