select coalesce(channel, 'unknown') as channel,
       count(*) as orders,
       100.0 * count(*) / sum(count(*)) over () as share_pct
from shop.sales
where day between :date_from and :date_to
group by 1
order by orders desc, channel;
