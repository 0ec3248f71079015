select created_on as day, count(*) as leads
from shop.leads
where created_on > (select today from shop.clock) - :days::int
group by created_on
order by created_on
