-- GET /api/analytics/dashboard/v5/trend/leads
-- Corrections: one row per day of the window (days without leads show 0
-- instead of vanishing from the chart); no cast of created_date_txt (invalid
-- values never match a day); case-insensitive platform, NULL = 'unknown'.
with days as (
  select d::date as dt, to_char(d, 'YYYY-MM-DD') as dt_txt
  from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)
)
select
  days.dt,
  count(distinct l.sk_lead) as leads
from days
left join (
  -- only the window's leads, found through the index on created_date_txt
  select l.sk_lead, l.created_date_txt
  from dashboards.fact_leads l
  where l.created_date_txt = any (array(select dt_txt from days))
    and (:platform is null
         or coalesce(lower(l.dominant_platform), 'unknown') = lower(:platform))
) l on l.created_date_txt = days.dt_txt
group by days.dt
order by days.dt;
