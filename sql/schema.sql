-- Schema of the `dashboards` relations the analytics v6 endpoints read.
-- Base tables (loaded by fixtures/) and the v6 materialized views derived from
-- them (created WITH NO DATA here, filled by sql/refresh.sql after loading), so
-- that every relation tells the same story about the same leads.
create schema if not exists dashboards;

-- Ad platform campaigns (Meta + Google).
create table dashboards.campaigns (
    campaign_id   integer primary key,
    platform      text not null,          -- 'meta' | 'google'
    campaign_name text not null,          -- unique per platform, NOT across platforms
    unique (platform, campaign_name)
);

-- Daily ad statistics per campaign, as exported from the ad platforms.
-- A missing row means "no export for that day"; a row with spend 0 means
-- "campaign paused that day".
create table dashboards.ad_stats_daily (
    date        date    not null,
    campaign_id integer not null references dashboards.campaigns,
    impressions bigint  not null,
    clicks      bigint  not null,
    spend       numeric(12,2) not null,
    primary key (date, campaign_id)
);

-- The base fact table: one row per lead.  created_date_txt is TEXT (as in
-- production) and is not guaranteed to hold a date; dominant_platform is not
-- guaranteed to be lower case or present.  No primary key on purpose: the
-- uniqueness of sk_lead is a table check, not a constraint.
create table dashboards.fact_leads (
    sk_lead           bigint not null,
    created_date_txt  text,
    dominant_platform text,               -- meta | google | direct | NULL (| mixed case)
    utm_source        text,
    utm_medium        text,
    is_paid           boolean,
    campaign_id       integer,            -- NULL for direct / unattributed leads
    contract_id       text,               -- NULL when the lead never signed
    contract_date     date,
    contract_amount   numeric(12,2),      -- NULL or 0 for some signed contracts
    product           text,
    branch            text,
    city              text
);

-- Fixture-side helper used by the views only (never by endpoint SQL, which must
-- run unchanged in production): every real calendar day with its canonical
-- YYYY-MM-DD spelling.  Joining created_date_txt to it parses the text without
-- ever raising on values that are not dates ('n/a', '2025-10-0', '2025-09-31').
create table dashboards.calendar_days (
    date date primary key,
    txt  text not null unique
);
insert into dashboards.calendar_days
select d::date, to_char(d, 'YYYY-MM-DD')
from generate_series(date '2020-01-01', date '2030-12-31', interval '1 day') d;

-- Daily ROI by campaign: a FULL join of ad statistics and attributed leads.
-- spend/impressions/clicks are NULL on campaign-days with leads but no ad
-- export; leads/contracts/revenue are NULL on campaign-days with spend but no
-- leads (as a full outer join in production would give).
create materialized view dashboards.v6_campaign_roi_daily as
with lead_days as (
    select cal.date,
           l.campaign_id,
           count(*)::integer                                         as leads,
           (count(*) filter (where l.contract_amount > 0))::integer  as contracts,
           coalesce(sum(l.contract_amount) filter (where l.contract_amount > 0), 0) as revenue
    from dashboards.fact_leads l
    join dashboards.calendar_days cal on cal.txt = l.created_date_txt
    where l.campaign_id is not null
    group by 1, 2
)
select coalesce(s.date, ld.date)               as date,
       c.platform,
       c.campaign_id,
       c.campaign_name,
       s.impressions,
       s.clicks,
       s.spend,
       ld.leads,
       ld.contracts,
       ld.revenue,
       s.spend / nullif(ld.leads, 0)             as cpl,
       ld.revenue / nullif(s.spend, 0)           as roas
from dashboards.ad_stats_daily s
full join lead_days ld
       on ld.date = s.date and ld.campaign_id = s.campaign_id
join dashboards.campaigns c
       on c.campaign_id = coalesce(s.campaign_id, ld.campaign_id)
with no data;

create index on dashboards.v6_campaign_roi_daily (date);

-- Contracts with their attribution chain.
create materialized view dashboards.v6_contracts_enriched as
select l.contract_id,
       l.sk_lead,
       cal.date                                 as lead_date,
       l.contract_date,
       l.contract_amount,
       lower(l.dominant_platform)               as platform,
       l.campaign_id,
       c.campaign_name,
       l.utm_source,
       l.product,
       l.branch,
       l.city
from dashboards.fact_leads l
left join dashboards.campaigns c using (campaign_id)
left join dashboards.calendar_days cal on cal.txt = l.created_date_txt
where l.contract_id is not null
with no data;

-- Daily attribution monitoring: share of leads attributed to an ad platform
-- and to a campaign (creative coverage = campaign-level attribution here).
create materialized view dashboards.v6_attribution_coverage as
select cal.date,
       count(*)                                                     as total_leads,
       count(*) filter (where lower(dominant_platform) in ('meta', 'google')) as platform_attributed,
       count(*) filter (where campaign_id is not null)              as campaign_attributed,
       round(100.0 * count(*) filter (where lower(dominant_platform) in ('meta', 'google')) / count(*), 2) as coverage_pct,
       round(100.0 * count(*) filter (where campaign_id is not null) / count(*), 2) as creative_coverage_pct
from dashboards.fact_leads l
join dashboards.calendar_days cal on cal.txt = l.created_date_txt
group by 1
with no data;

-- Conversion funnel per day and platform: impressions -> clicks -> leads -> contracts.
create materialized view dashboards.v6_funnel_daily as
select date,
       platform,
       coalesce(sum(impressions), 0) as impressions,
       coalesce(sum(clicks), 0)      as clicks,
       coalesce(sum(leads), 0)       as leads,
       coalesce(sum(contracts), 0)   as contracts,
       100.0 * coalesce(sum(clicks), 0) / nullif(sum(impressions), 0) as ctr_pct,
       100.0 * coalesce(sum(leads), 0) / nullif(sum(clicks), 0)       as click_to_lead_pct,
       100.0 * coalesce(sum(contracts), 0) / nullif(sum(leads), 0)    as lead_to_contract_pct
from dashboards.v6_campaign_roi_daily
group by date, platform
with no data;
