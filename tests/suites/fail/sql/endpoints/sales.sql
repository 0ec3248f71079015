select id, day, channel, amount
from shop.sales
order by id
