-- Plan, 1.3 Scatter Matrix (CPL vs ROAS) (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  platform,
  campaign_name,
  SUM(leads) as leads,
  SUM(spend) as spend,
  SUM(spend) / NULLIF(SUM(leads), 0) as cpl,
  SUM(revenue) / NULLIF(SUM(spend), 0) as roas
FROM dashboards.v6_campaign_roi_daily
WHERE date BETWEEN :date_from AND :date_to
  AND leads > 0 AND spend > 0
GROUP BY platform, campaign_name
HAVING SUM(leads) >= 3  -- Minimum volume filter
ORDER BY spend DESC
LIMIT 50;
