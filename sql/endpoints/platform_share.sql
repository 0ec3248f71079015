-- GET /api/analytics/sales/v5/share/platforms
-- Corrections: no cast of created_date_txt; 'Meta' and 'meta' are one slice,
-- NULL is the slice 'unknown'; deterministic order.
with days as (
  select to_char(d, 'YYYY-MM-DD') as dt_txt
  from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)
)
select
  coalesce(lower(l.dominant_platform), 'unknown') as platform,
  count(distinct l.sk_lead) as leads,
  100.0 * count(distinct l.sk_lead) / sum(count(distinct l.sk_lead)) over () as share_pct
from dashboards.fact_leads l
join days on days.dt_txt = l.created_date_txt
group by 1
order by leads desc, platform;
