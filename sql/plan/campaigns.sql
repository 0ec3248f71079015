-- Plan, 1.2 Campaigns Performance (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  platform,
  campaign_name,
  SUM(leads) as leads,
  SUM(contracts) as n_contracts,
  SUM(revenue) as revenue,
  SUM(spend) as spend,
  CASE WHEN SUM(leads) > 0 THEN SUM(spend) / SUM(leads) ELSE 0 END as cpl,
  CASE WHEN SUM(spend) > 0 THEN SUM(revenue) / SUM(spend) ELSE 0 END as roas
FROM dashboards.v6_campaign_roi_daily
WHERE date BETWEEN :date_from AND :date_to
  AND (platform = :platform OR :platform IS NULL)
GROUP BY platform, campaign_name
ORDER BY spend DESC
LIMIT :limit;
