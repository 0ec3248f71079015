-- GET /api/analytics/sales/v6/leads/paid-split/platforms
-- Corrections: no cast of created_date_txt (the window's day spellings are
-- matched as one array, through the index on created_date_txt); platform
-- normalised (NULL = 'unknown'); deterministic order.  NULL is_paid still
-- counts as organic.
select
  coalesce(lower(l.dominant_platform), 'unknown') as platform,
  count(distinct case when l.is_paid = true then l.sk_lead end) as paid_leads,
  count(distinct case when l.is_paid = false or l.is_paid is null then l.sk_lead end) as organic_leads,
  count(distinct l.sk_lead) as total_leads,
  100.0 * count(distinct case when l.is_paid = true then l.sk_lead end) / nullif(count(distinct l.sk_lead), 0) as paid_pct,
  100.0 * count(distinct case when l.is_paid = false or l.is_paid is null then l.sk_lead end) / nullif(count(distinct l.sk_lead), 0) as organic_pct
from dashboards.fact_leads l
where l.created_date_txt = any (array(
        select to_char(d, 'YYYY-MM-DD')
        from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)))
group by 1
order by total_leads desc, platform;
