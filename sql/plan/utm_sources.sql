-- Plan, 1.2 UTM Sources (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  dominant_platform as platform,
  utm_source,
  COUNT(DISTINCT sk_lead) as leads,
  COUNT(DISTINCT CASE WHEN contract_amount > 0 THEN sk_lead END) as n_contracts,
  SUM(contract_amount) as revenue
FROM dashboards.fact_leads
WHERE created_date_txt::date BETWEEN :date_from AND :date_to
  AND utm_source IS NOT NULL
GROUP BY dominant_platform, utm_source
ORDER BY leads DESC;
