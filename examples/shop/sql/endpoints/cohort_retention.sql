-- GET /api/shop/cohorts: customers by signup month (the cohort), and how many
-- of them placed a paid order 0, 1, 2, ... months after their signup month.
with cohorts as (
    select customer_id, date_trunc('month', signup_date)::date as cohort
    from shop.customers
    where signup_date between :date_from and :date_to
),
sizes as (
    select cohort, count(*) as cohort_size from cohorts group by cohort
),
active as (
    select distinct c.cohort,
           c.customer_id,
           ((extract(year from t.order_date) - extract(year from c.cohort)) * 12
             + extract(month from t.order_date) - extract(month from c.cohort))::integer as month
    from shop.order_totals t
    join cohorts c using (customer_id)
    where t.status = 'paid'
      and t.order_date >= c.cohort
)
select a.cohort,
       s.cohort_size,
       a.month,
       count(*)                                        as active,
       round(100.0 * count(*) / s.cohort_size, 2)      as retention_pct
from active a
join sizes s using (cohort)
group by a.cohort, s.cohort_size, a.month
order by a.cohort, a.month;
