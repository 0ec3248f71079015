-- GET /api/analytics/dashboard/v5/trend/spend
-- Corrections: one row per day of the window, spend 0 (not NULL, not missing)
-- on days without ad statistics; platform compared case-insensitively.
with days as (
  select d::date as dt
  from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)
)
select
  days.dt,
  coalesce(sum(r.spend), 0) as spend
from days
left join dashboards.v6_campaign_roi_daily r
  on r.date = days.dt
 and (:platform is null or r.platform = lower(:platform))
group by days.dt
order by days.dt;
