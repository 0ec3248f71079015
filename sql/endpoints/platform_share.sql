-- GET /api/analytics/sales/v5/share/platforms
-- Corrections: no cast of created_date_txt (the window's day spellings are
-- matched as one array, through the index on created_date_txt); 'Meta' and
-- 'meta' are one slice, NULL is the slice 'unknown'; deterministic order.
select
  coalesce(lower(l.dominant_platform), 'unknown') as platform,
  count(distinct l.sk_lead) as leads,
  100.0 * count(distinct l.sk_lead) / sum(count(distinct l.sk_lead)) over () as share_pct
from dashboards.fact_leads l
where l.created_date_txt = any (array(
        select to_char(d, 'YYYY-MM-DD')
        from generate_series(:date_from::timestamp, :date_to::timestamp, interval '1 day') as g(d)))
group by 1
order by leads desc, platform;
