-- The same volume as `assay gen --scale N`, written the way one would in SQL:
-- generate_series with md5-based pseudo-randomness (as fixtures/generate.sql
-- does), run through psql. `assay gen --versus-psql` runs it into a second
-- database of the same cluster and reports how the two compare.
--
-- psql variables (set by assay from its own plan, so the row counts match):
--   first_day, days, campaigns, meta_campaigns, leads
set jit = off;

insert into dashboards.campaigns (campaign_id, platform, campaign_name)
select c,
       case when c <= :meta_campaigns then 'meta' else 'google' end,
       case when c <= :meta_campaigns then 'meta_' else 'google_' end || lpad(c::text, 4, '0')
from generate_series(1, :campaigns) c;

insert into dashboards.ad_stats_daily (date, campaign_id, impressions, clicks, spend)
select d, c, imp, round(imp * (0.008 + 0.02 * u3)), spend
from (
    select d, c, u3, spend,
           case when spend = 0 then 0 else round(spend * (60 + 60 * u2)) end as imp
    from (
        select d::date as d, c,
               ('x' || substr(h, 1, 4))::bit(16)::int / 65536.0 as u1,
               ('x' || substr(h, 5, 4))::bit(16)::int / 65536.0 as u2,
               ('x' || substr(h, 9, 4))::bit(16)::int / 65536.0 as u3,
               case when ('x' || substr(h, 13, 4))::bit(16)::int / 65536.0 < 0.04 then 0
                    else round((80 + 320 * ('x' || substr(h, 1, 4))::bit(16)::int / 65536.0)::numeric, 2)
               end as spend
        from (
            select d, c, md5(c || '/' || d) as h
            from generate_series(:'first_day'::date, :'first_day'::date + (:days - 1), interval '1 day') d,
                 generate_series(1, :campaigns) c
        ) hashed
    ) s
) s2;

insert into dashboards.fact_leads
    (sk_lead, created_date_txt, dominant_platform, utm_source, utm_medium, is_paid,
     campaign_id, contract_id, contract_date, contract_amount, product, branch, city)
with h as (
    select k, :'first_day'::date + ((k - 1) * :days / :leads)::int as d, md5('lead' || k) as h
    from generate_series(1, :leads::bigint) k
),
u as (
    select k, d,
           ('x' || substr(h,  1, 4))::bit(16)::int / 65536.0 as u1,
           ('x' || substr(h,  5, 4))::bit(16)::int / 65536.0 as u2,
           ('x' || substr(h,  9, 4))::bit(16)::int / 65536.0 as u3,
           ('x' || substr(h, 13, 4))::bit(16)::int / 65536.0 as u4,
           ('x' || substr(h, 17, 4))::bit(16)::int / 65536.0 as u5,
           ('x' || substr(h, 21, 4))::bit(16)::int / 65536.0 as u6,
           ('x' || substr(h, 25, 4))::bit(16)::int / 65536.0 as u7
    from h
),
p as (
    select u.*,
           case when u1 < 0.55 then 'meta' when u1 < 0.84 then 'google' when u1 < 0.95 then 'direct'
                when u1 < 0.98 then null when u1 < 0.99 then 'Meta' else 'GOOGLE' end as platform
    from u
)
select 1000000 + k,
       to_char(d, 'YYYY-MM-DD'),
       platform,
       case lower(platform)
            when 'meta'   then case when u3 < 0.7 then 'facebook' else 'instagram' end
            when 'google' then case when u3 < 0.9 then 'google' else 'youtube' end
            when 'direct' then case when u3 < 0.6 then null else 'newsletter' end
            else case when u3 < 0.5 then null else 'partner_site' end
       end,
       case when lower(platform) in ('meta', 'google') then 'cpc' end,
       case when lower(platform) in ('meta', 'google') then case when u4 < 0.03 then null else true end
            when platform = 'direct' then case when u4 < 0.05 then null else false end
            else case when u4 < 0.5 then null else false end
       end,
       case lower(platform)
            when 'meta' then 1 + floor(u2 * :meta_campaigns)::int
            when 'google' then :meta_campaigns + 1 + floor(u2 * (:campaigns - :meta_campaigns))::int
       end,
       case when u5 < 0.035 then 'C' || (1000000 + k) end,
       case when u5 < 0.035 then d + (3 + floor(u7 * 18))::int end,
       case when u5 < 0.035 then
            case when u6 < 0.08 then 0 when u6 < 0.14 then null else round((800 + 4200 * u7)::numeric, 2) end
       end,
       (array['kitchen','wardrobe','bathroom','windows','doors'])[1 + floor(u7 * 5)::int],
       (array['north','south','east','west','center'])[1 + floor(u6 * 5)::int],
       (array['kyiv','lviv','odesa','dnipro','kharkiv'])[1 + floor(u3 * 5)::int]
from p;
reset jit;
