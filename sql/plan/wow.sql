-- Plan, 1.3 Week-over-Week Comparison (verbatim; :end_date -> :date_to)
WITH current_week AS (
  SELECT
    platform, campaign_name,
    SUM(leads) as leads_cur,
    SUM(spend) / NULLIF(SUM(leads), 0) as cpl_cur
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_to - INTERVAL '6 days' AND :date_to
  GROUP BY platform, campaign_name
),
prev_week AS (
  SELECT
    platform, campaign_name,
    SUM(leads) as leads_prev,
    SUM(spend) / NULLIF(SUM(leads), 0) as cpl_prev
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_to - INTERVAL '13 days' AND :date_to - INTERVAL '7 days'
  GROUP BY platform, campaign_name
)
SELECT
  c.platform,
  c.campaign_name,
  c.leads_cur,
  p.leads_prev,
  100.0 * (c.leads_cur - p.leads_prev) / NULLIF(p.leads_prev, 0) as leads_diff_pct,
  c.cpl_cur,
  p.cpl_prev
FROM current_week c
LEFT JOIN prev_week p USING (platform, campaign_name)
WHERE c.leads_cur > 0 OR p.leads_prev > 0
ORDER BY ABS(c.leads_cur - COALESCE(p.leads_prev, 0)) DESC
LIMIT 20;
