-- GET /api/analytics/dashboard/v5/kpi
-- Corrections to the plan: spend honours the platform filter; leads are matched
-- to the window through their canonical day spelling (a created_date_txt that
-- is not a date never raises, it is just never in a window); platforms are
-- compared case-insensitively with NULL as 'unknown'; cpl and roas (promised
-- by the plan's KPI cards) are returned; revenue is 0, not NULL, without leads.
-- Speed: leads are found through the index on created_date_txt (the window's
-- day spellings as one array), not by reading and casting every row.
with leads as (
  select
    count(distinct l.sk_lead) as leads,
    count(distinct case when l.contract_amount > 0 then l.sk_lead end) as n_contracts,
    coalesce(sum(l.contract_amount), 0) as revenue
  from dashboards.fact_leads l
  where l.created_date_txt = any (array(
          select to_char(d, 'YYYY-MM-DD')
          from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)))
    and (:platform is null
         or coalesce(lower(l.dominant_platform), 'unknown') = lower(:platform))
),
spend as (
  select coalesce(sum(r.spend), 0) as spend
  from dashboards.v6_campaign_roi_daily r
  where r.date between :date_from and :date_to
    and (:platform is null or r.platform = lower(:platform))
)
select
  leads.leads,
  leads.n_contracts,
  leads.revenue,
  spend.spend,
  spend.spend / nullif(leads.leads, 0) as cpl,
  leads.revenue / nullif(spend.spend, 0) as roas
from leads cross join spend;
