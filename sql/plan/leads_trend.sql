-- Plan, 1.1 Leads Trend (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  created_date_txt::date as dt,
  COUNT(DISTINCT sk_lead) as leads
FROM dashboards.fact_leads
WHERE created_date_txt::date BETWEEN :date_from AND :date_to
  AND (dominant_platform = :platform OR :platform IS NULL)
GROUP BY created_date_txt::date
ORDER BY dt;
