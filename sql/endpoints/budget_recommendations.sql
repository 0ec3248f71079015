-- GET /api/analytics/sales/v6/reco/budget
-- Corrections: a campaign with spend but no leads (NULL leads/contracts/revenue
-- in the view) is 'pause', not 'monitor' (the plan's NULL comparisons fell
-- through to ELSE); rows are ordered by the action they show (scale, pause,
-- monitor: action_rank), where the plan sorted by a different rule (ROAS only)
-- so that 'monitor' rows came before 'pause' ones and zero-contract 'pause'
-- rows sank to the bottom, where LIMIT cuts them; deterministic ties.
with campaign_performance as (
  select
    platform, campaign_name,
    coalesce(sum(leads), 0) as leads_cur,
    coalesce(sum(spend), 0) as spend_cur,
    coalesce(sum(contracts), 0) as contracts_cur,
    sum(spend) / nullif(sum(leads), 0) as cpl_cur,
    coalesce(sum(revenue), 0) / nullif(sum(spend), 0) as roas_cur
  from dashboards.v6_campaign_roi_daily
  where date between :date_from and :date_to
  group by platform, campaign_name
),
avg_metrics as (
  select
    avg(cpl_cur) as avg_cpl,
    avg(roas_cur) as avg_roas
  from campaign_performance
  where leads_cur >= 5  -- minimum volume
),
recommended as (
  select
    c.platform, c.campaign_name, c.leads_cur, c.spend_cur, c.cpl_cur, c.roas_cur,
    case
      when c.roas_cur > a.avg_roas * 1.5 and c.cpl_cur < a.avg_cpl then 'scale'
      when c.roas_cur < a.avg_roas * 0.5 or c.contracts_cur = 0 then 'pause'
      else 'monitor'
    end as action
  from campaign_performance c
  cross join avg_metrics a
  where c.spend_cur > 100  -- minimum spend threshold
)
select
  platform, campaign_name, leads_cur, spend_cur, cpl_cur, roas_cur, action,
  case action when 'scale' then 1 when 'pause' then 2 else 3 end as action_rank
from recommended
order by action_rank, spend_cur desc, platform, campaign_name
limit :limit;
