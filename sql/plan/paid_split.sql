-- Plan, 1.5 Paid vs Organic Split (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  dominant_platform as platform,
  COUNT(DISTINCT CASE WHEN is_paid = true THEN sk_lead END) as paid_leads,
  COUNT(DISTINCT CASE WHEN is_paid = false OR is_paid IS NULL THEN sk_lead END) as organic_leads,
  COUNT(DISTINCT sk_lead) as total_leads,
  100.0 * COUNT(DISTINCT CASE WHEN is_paid = true THEN sk_lead END) / NULLIF(COUNT(DISTINCT sk_lead), 0) as paid_pct,
  100.0 * COUNT(DISTINCT CASE WHEN is_paid = false OR is_paid IS NULL THEN sk_lead END) / NULLIF(COUNT(DISTINCT sk_lead), 0) as organic_pct
FROM dashboards.fact_leads
WHERE created_date_txt::date BETWEEN :date_from AND :date_to
GROUP BY dominant_platform;
