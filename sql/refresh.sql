-- Fill the v6 materialized views from the loaded base tables (order matters:
-- v6_funnel_daily reads v6_campaign_roi_daily).
set jit = off;
refresh materialized view dashboards.v6_campaign_roi_daily;
refresh materialized view dashboards.v6_contracts_enriched;
refresh materialized view dashboards.v6_attribution_coverage;
refresh materialized view dashboards.v6_funnel_daily;
analyze dashboards.fact_leads;
analyze dashboards.v6_campaign_roi_daily;
reset jit;
