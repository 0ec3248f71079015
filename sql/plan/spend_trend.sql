-- Plan, 1.1 Spend Trend (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  date as dt,
  SUM(spend) as spend
FROM dashboards.v6_campaign_roi_daily
WHERE date BETWEEN :date_from AND :date_to
  AND (platform = :platform OR :platform IS NULL)
GROUP BY date
ORDER BY date;
