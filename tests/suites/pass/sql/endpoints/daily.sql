-- daily totals, optional channel filter
select day as dt, count(*) as orders, sum(amount) as amount
from shop.sales
where day between :date_from and :date_to
  and (channel = :channel or :channel is null)
group by day
order by day;
