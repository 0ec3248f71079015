-- GET /api/analytics/sales/v5/campaigns
-- Corrections: NULL spend/leads/revenue (campaign-days with only one side in
-- the view) count as 0, so campaigns without ad statistics no longer sort
-- first under ORDER BY spend DESC; cpl is NULL (not 0) without leads and roas
-- NULL (not 0) without spend; deterministic order for ties.
select
  platform,
  campaign_name,
  coalesce(sum(leads), 0) as leads,
  coalesce(sum(contracts), 0) as n_contracts,
  coalesce(sum(revenue), 0) as revenue,
  coalesce(sum(spend), 0) as spend,
  coalesce(sum(spend), 0) / nullif(sum(leads), 0) as cpl,
  coalesce(sum(revenue), 0) / nullif(sum(spend), 0) as roas
from dashboards.v6_campaign_roi_daily
where date between :date_from and :date_to
  and (:platform is null or platform = lower(:platform))
group by platform, campaign_name
order by spend desc, platform, campaign_name
limit :limit;
