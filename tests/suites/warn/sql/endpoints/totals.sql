select count(*) as orders, sum(amount) as amount from shop.sales
