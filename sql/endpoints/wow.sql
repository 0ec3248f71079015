-- GET /api/analytics/campaigns/v5/campaigns/wow
-- Corrections: FULL join, so campaigns active only in the previous week (the
-- biggest drops) are listed; NULL leads count as 0 (no NULL sort key floating
-- to the top of ORDER BY ... DESC); deterministic order for ties.
with current_week as (
  select platform, campaign_name,
         coalesce(sum(leads), 0) as leads_cur,
         sum(spend) / nullif(sum(leads), 0) as cpl_cur
  from dashboards.v6_campaign_roi_daily
  where date between :date_to - 6 and :date_to
  group by platform, campaign_name
),
prev_week as (
  select platform, campaign_name,
         coalesce(sum(leads), 0) as leads_prev,
         sum(spend) / nullif(sum(leads), 0) as cpl_prev
  from dashboards.v6_campaign_roi_daily
  where date between :date_to - 13 and :date_to - 7
  group by platform, campaign_name
)
select
  platform,
  campaign_name,
  coalesce(c.leads_cur, 0) as leads_cur,
  coalesce(p.leads_prev, 0) as leads_prev,
  100.0 * (coalesce(c.leads_cur, 0) - p.leads_prev) / nullif(p.leads_prev, 0) as leads_diff_pct,
  c.cpl_cur,
  p.cpl_prev
from current_week c
full join prev_week p using (platform, campaign_name)
where coalesce(c.leads_cur, 0) > 0 or coalesce(p.leads_prev, 0) > 0
order by abs(coalesce(c.leads_cur, 0) - coalesce(p.leads_prev, 0)) desc, platform, campaign_name
limit 20;
