-- Plan, 1.4 Budget Recommendations (verbatim; :start/:end -> :date_from/:date_to)
WITH campaign_performance AS (
  SELECT
    platform, campaign_name,
    SUM(leads) as leads_cur,
    SUM(spend) as spend_cur,
    SUM(revenue) as revenue_cur,
    SUM(contracts) as contracts_cur,
    SUM(spend) / NULLIF(SUM(leads), 0) as cpl_cur,
    SUM(revenue) / NULLIF(SUM(spend), 0) as roas_cur
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_from AND :date_to
  GROUP BY platform, campaign_name
),
avg_metrics AS (
  SELECT
    AVG(cpl_cur) as avg_cpl,
    AVG(roas_cur) as avg_roas
  FROM campaign_performance
  WHERE leads_cur >= 5  -- Minimum volume
)
SELECT
  c.platform,
  c.campaign_name,
  c.leads_cur,
  c.spend_cur,
  c.cpl_cur,
  c.roas_cur,
  CASE
    WHEN c.roas_cur > a.avg_roas * 1.5 AND c.cpl_cur < a.avg_cpl THEN 'scale'
    WHEN c.roas_cur < a.avg_roas * 0.5 OR c.contracts_cur = 0 THEN 'pause'
    ELSE 'monitor'
  END as action
FROM campaign_performance c, avg_metrics a
WHERE c.spend_cur > 100  -- Minimum spend threshold
ORDER BY
  CASE
    WHEN c.roas_cur > a.avg_roas * 1.5 THEN 1
    WHEN c.roas_cur < a.avg_roas * 0.5 THEN 2
    ELSE 3
  END,
  c.spend_cur DESC
LIMIT :limit;
