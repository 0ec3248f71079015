-- GET /api/analytics/campaigns/v7/insights/campaign-performance
-- Same rules as the plan; only a deterministic order for revenue ties (and
-- the unused spend column of the CTE is gone).
with campaign_contracts as (
  select
    r.platform,
    r.campaign_name,
    sum(r.leads) as leads,
    sum(r.contracts) as contracts,
    sum(r.revenue) as revenue,
    100.0 * sum(r.contracts) / nullif(sum(r.leads), 0) as conversion_rate,
    sum(r.revenue) / nullif(sum(r.contracts), 0) as avg_contract_value,
    sum(r.revenue) / nullif(sum(r.spend), 0) as roas
  from dashboards.v6_campaign_roi_daily r
  where r.date between :date_from and :date_to
  group by r.platform, r.campaign_name
  having sum(r.contracts) > 0  -- only campaigns with contracts
)
select
  platform,
  campaign_name,
  leads,
  contracts,
  revenue,
  conversion_rate,
  avg_contract_value,
  roas,
  case
    when conversion_rate >= 5 and roas >= 2 then 'high_performer'
    when conversion_rate >= 3 and roas >= 1 then 'medium_performer'
    when leads >= 50 then 'volume_driver'
    else 'needs_attention'
  end as performance_category
from campaign_contracts
order by revenue desc, platform, campaign_name
limit :limit;
