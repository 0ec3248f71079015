-- Plan, 1.2 Platform Share (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  dominant_platform as platform,
  COUNT(DISTINCT sk_lead) as leads,
  100.0 * COUNT(DISTINCT sk_lead) / SUM(COUNT(DISTINCT sk_lead)) OVER () as share_pct
FROM dashboards.fact_leads
WHERE created_date_txt::date BETWEEN :date_from AND :date_to
GROUP BY dominant_platform;
