-- GET /api/analytics/sales/v5/utm-sources
-- Corrections: no cast of created_date_txt (the window's day spellings are
-- matched as one array, through the index on created_date_txt); platform
-- normalised; revenue 0 (not NULL) for sources without contracts;
-- deterministic order.
select
  coalesce(lower(l.dominant_platform), 'unknown') as platform,
  l.utm_source,
  count(distinct l.sk_lead) as leads,
  count(distinct case when l.contract_amount > 0 then l.sk_lead end) as n_contracts,
  coalesce(sum(l.contract_amount), 0) as revenue
from dashboards.fact_leads l
where l.created_date_txt = any (array(
        select to_char(d, 'YYYY-MM-DD')
        from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)))
  and l.utm_source is not null
group by 1, 2
order by leads desc, platform, utm_source;
