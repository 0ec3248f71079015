select id, amount / (id - id) as ratio
from shop.sales
