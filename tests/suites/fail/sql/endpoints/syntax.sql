-- a query with a syntax error on line 4
select id,
       amount
from from shop.sales
