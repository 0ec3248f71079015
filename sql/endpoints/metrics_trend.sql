-- GET /api/analytics/campaigns/v7/metrics/trend
-- Corrections: one row per day of the window; sums are 0, not NULL, on days
-- without ad statistics or without leads, and the ratios are computed from
-- those same sums (NULL only when their denominator is 0).
-- Speed: the window's rows are read through the index on date, not by a
-- hash of the whole view (FINDINGS.md F14).
with days as (
  select d::date as dt
  from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)
)
select
  days.dt,
  coalesce(sum(r.leads), 0) as leads,
  coalesce(sum(r.clicks), 0) as clicks,
  coalesce(sum(r.impressions), 0) as impressions,
  coalesce(sum(r.spend), 0) as spend,
  coalesce(sum(r.spend), 0) / nullif(sum(r.leads), 0) as cpl,
  coalesce(sum(r.spend), 0) / nullif(sum(r.clicks), 0) as cpc,
  100.0 * sum(r.clicks) / nullif(sum(r.impressions), 0) as ctr,
  1000.0 * coalesce(sum(r.spend), 0) / nullif(sum(r.impressions), 0) as cpm
from days
left join (
  -- only the window's rows, found through the index on date
  select r.* from dashboards.v6_campaign_roi_daily r
  where r.date between :date_from and :date_to
) r on r.date = days.dt
group by days.dt
order by days.dt;
