-- GET /api/analytics/campaigns/v5/campaigns/anomalies
-- Corrections: the lead-drop rule compares average leads per day in the
-- window with the baseline's average leads per day (the plan compared the
-- window TOTAL with a daily average, so drops were only seen on 1-day
-- windows); rows are ordered by severity rank high > medium > low (the plan's
-- ORDER BY severity DESC is alphabetical: medium, low, high), exposed as
-- severity_rank; deterministic order for ties.
with baseline as (
  select
    platform, campaign_name,
    avg(spend / nullif(leads, 0)) as baseline_cpl,
    stddev(spend / nullif(leads, 0)) as cpl_stddev,
    avg(leads) as avg_leads
  from dashboards.v6_campaign_roi_daily
  where date between :date_from - 30 and :date_from - 1
    and leads > 0
  group by platform, campaign_name
),
current_window as (
  select
    platform, campaign_name,
    coalesce(sum(leads), 0) as leads,
    coalesce(sum(spend), 0) as spend,
    sum(spend) / nullif(sum(leads), 0) as current_cpl,
    coalesce(sum(leads), 0)::numeric / (:date_to - :date_from + 1) as leads_per_day
  from dashboards.v6_campaign_roi_daily
  where date between :date_from and :date_to
  group by platform, campaign_name
),
flagged as (
  select
    c.platform, c.campaign_name, c.leads, c.spend, c.current_cpl, b.baseline_cpl,
    case
      when c.current_cpl > b.baseline_cpl + 2 * b.cpl_stddev then 'spike_cpl'
      when c.leads_per_day < b.avg_leads * 0.5 then 'drop_leads'
      when c.spend > (select avg(spend) from current_window) * 2 then 'spike_spend'
      else 'normal'
    end as anomaly_type,
    case
      when c.current_cpl > b.baseline_cpl + 3 * b.cpl_stddev then 'high'
      when c.current_cpl > b.baseline_cpl + 2 * b.cpl_stddev then 'medium'
      else 'low'
    end as severity
  from current_window c
  join baseline b using (platform, campaign_name)
)
select
  platform, campaign_name, leads, spend, current_cpl, baseline_cpl, anomaly_type, severity,
  case severity when 'high' then 1 when 'medium' then 2 else 3 end as severity_rank
from flagged
where anomaly_type <> 'normal'
order by severity_rank, spend desc, platform, campaign_name
limit 20;
