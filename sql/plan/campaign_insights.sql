-- Plan, 1.4 Campaign Insights (verbatim; :start/:end -> :date_from/:date_to)
WITH campaign_contracts AS (
  SELECT
    r.platform,
    r.campaign_name,
    SUM(r.leads) as leads,
    SUM(r.contracts) as contracts,
    SUM(r.revenue) as revenue,
    SUM(r.spend) as spend,
    100.0 * SUM(r.contracts) / NULLIF(SUM(r.leads), 0) as conversion_rate,
    SUM(r.revenue) / NULLIF(SUM(r.contracts), 0) as avg_contract_value,
    SUM(r.revenue) / NULLIF(SUM(r.spend), 0) as roas
  FROM dashboards.v6_campaign_roi_daily r
  WHERE r.date BETWEEN :date_from AND :date_to
  GROUP BY r.platform, r.campaign_name
  HAVING SUM(r.contracts) > 0  -- Only campaigns with contracts
)
SELECT
  platform,
  campaign_name,
  leads,
  contracts,
  revenue,
  conversion_rate,
  avg_contract_value,
  roas,
  CASE
    WHEN conversion_rate >= 5 AND roas >= 2 THEN 'high_performer'
    WHEN conversion_rate >= 3 AND roas >= 1 THEN 'medium_performer'
    WHEN leads >= 50 THEN 'volume_driver'
    ELSE 'needs_attention'
  END as performance_category
FROM campaign_contracts
ORDER BY revenue DESC
LIMIT :limit;
