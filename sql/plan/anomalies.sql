-- Plan, 1.3 Anomalies (verbatim; :start/:end -> :date_from/:date_to)
WITH baseline AS (
  SELECT
    platform, campaign_name,
    AVG(spend / NULLIF(leads, 0)) as baseline_cpl,
    STDDEV(spend / NULLIF(leads, 0)) as cpl_stddev,
    AVG(leads) as avg_leads
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_from - INTERVAL '30 days' AND :date_from - INTERVAL '1 day'
    AND leads > 0
  GROUP BY platform, campaign_name
),
current AS (
  SELECT
    platform, campaign_name,
    SUM(leads) as leads,
    SUM(spend) as spend,
    SUM(spend) / NULLIF(SUM(leads), 0) as current_cpl
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_from AND :date_to
  GROUP BY platform, campaign_name
)
SELECT
  c.platform,
  c.campaign_name,
  c.leads,
  c.spend,
  c.current_cpl,
  b.baseline_cpl,
  CASE
    WHEN c.current_cpl > b.baseline_cpl + 2 * b.cpl_stddev THEN 'spike_cpl'
    WHEN c.leads < b.avg_leads * 0.5 THEN 'drop_leads'
    WHEN c.spend > (SELECT AVG(spend) FROM current) * 2 THEN 'spike_spend'
    ELSE 'normal'
  END as anomaly_type,
  CASE
    WHEN c.current_cpl > b.baseline_cpl + 3 * b.cpl_stddev THEN 'high'
    WHEN c.current_cpl > b.baseline_cpl + 2 * b.cpl_stddev THEN 'medium'
    ELSE 'low'
  END as severity
FROM current c
JOIN baseline b USING (platform, campaign_name)
WHERE c.current_cpl > b.baseline_cpl + 2 * b.cpl_stddev
   OR c.leads < b.avg_leads * 0.5
   OR c.spend > (SELECT AVG(spend) FROM current) * 2
ORDER BY severity DESC, c.spend DESC
LIMIT 20;
