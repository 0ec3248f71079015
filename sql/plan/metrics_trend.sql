-- Plan, 1.4 Metrics Trend (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  r.date as dt,
  SUM(r.leads) as leads,
  SUM(r.clicks) as clicks,
  SUM(r.impressions) as impressions,
  SUM(r.spend) as spend,
  SUM(r.spend) / NULLIF(SUM(r.leads), 0) as cpl,
  SUM(r.spend) / NULLIF(SUM(r.clicks), 0) as cpc,
  100.0 * SUM(r.clicks) / NULLIF(SUM(r.impressions), 0) as ctr,
  1000.0 * SUM(r.spend) / NULLIF(SUM(r.impressions), 0) as cpm
FROM dashboards.v6_campaign_roi_daily r
WHERE r.date BETWEEN :date_from AND :date_to
GROUP BY r.date
ORDER BY r.date;
