-- GET /api/analytics/dashboard/v5/trend/spend
-- Corrections: one row per day of the window, spend 0 (not NULL, not missing)
-- on days without ad statistics; platform compared case-insensitively.
-- Speed: the window's rows are read through the index on date (F14).
with days as (
  select d::date as dt
  from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)
)
select
  days.dt,
  coalesce(sum(r.spend), 0) as spend
from days
left join (
  -- only the window's rows, found through the index on date
  select r.date, r.spend
  from dashboards.v6_campaign_roi_daily r
  where r.date between :date_from and :date_to
    and (:platform is null or r.platform = lower(:platform))
) r on r.date = days.dt
group by days.dt
order by days.dt;
