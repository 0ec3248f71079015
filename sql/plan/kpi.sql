-- Plan, 1.1 KPI Cards (verbatim; :start/:end -> :date_from/:date_to)
SELECT
  COUNT(DISTINCT CASE WHEN created_date_txt::date BETWEEN :date_from AND :date_to THEN sk_lead END) as leads,
  COUNT(DISTINCT CASE WHEN contract_amount > 0 AND created_date_txt::date BETWEEN :date_from AND :date_to THEN sk_lead END) as n_contracts,
  SUM(CASE WHEN created_date_txt::date BETWEEN :date_from AND :date_to THEN contract_amount ELSE 0 END) as revenue,
  -- Get spend from v6_campaign_roi_daily
  (SELECT SUM(spend) FROM dashboards.v6_campaign_roi_daily WHERE date BETWEEN :date_from AND :date_to) as spend
FROM dashboards.fact_leads
WHERE dominant_platform = :platform OR :platform IS NULL;
