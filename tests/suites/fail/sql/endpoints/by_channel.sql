-- label is 'all' for the unfiltered set: the subset relation must fail on it
select coalesce(:channel, 'all') as label,
       count(*) as n,
       count(*) filter (where not (day between :date_from and :date_to)) as outside
from shop.sales
where channel = :channel or :channel is null
