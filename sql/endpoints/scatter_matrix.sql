-- GET /api/analytics/campaigns/v5/campaigns/scatter-matrix
-- Corrections: the volume filter applies to the campaign totals (HAVING), not
-- to single days: the plan's row filter "leads > 0 AND spend > 0" dropped the
-- spend of days without leads (understating CPL) and the revenue of days
-- without spend; deterministic order for ties.
select
  platform,
  campaign_name,
  sum(leads) as leads,
  sum(spend) as spend,
  sum(spend) / nullif(sum(leads), 0) as cpl,
  coalesce(sum(revenue), 0) / nullif(sum(spend), 0) as roas
from dashboards.v6_campaign_roi_daily
where date between :date_from and :date_to
group by platform, campaign_name
having sum(leads) >= 3  -- minimum volume
   and sum(spend) > 0
order by spend desc, platform, campaign_name
limit 50;
