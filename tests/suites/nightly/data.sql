-- Leads for every day from 2025-07-28 up to the night before shop.clock's
-- today.  Pseudo-random from md5 (the same rows on every load):
--   * about 220 leads a day, ~85 % attributed to meta or google;
--   * every Sunday more direct leads: coverage ~70 % (a normal weekly dip);
--   * Thursday 2025-09-18: a batch lost its platform, coverage ~35 % (the drop).
set jit = off;
insert into shop.leads (id, created_on, platform, amount)
with days as (
    select d::date as d,
           200 + floor(40 * (('x' || substr(md5('n' || d::date), 1, 8))::bit(32)::bigint / 4294967296.0))::int as n
    from generate_series(date '2025-07-28', (select today - 1 from shop.clock), interval '1 day') d
),
leads as (
    select row_number() over (order by d, k) as id, d, k,
           ('x' || substr(md5('l' || d || ':' || k), 1, 8))::bit(32)::bigint / 4294967296.0 as u,
           ('x' || substr(md5('m' || d || ':' || k), 1, 8))::bit(32)::bigint / 4294967296.0 as v
    from days, generate_series(1, days.n) k
)
select id, d,
       case when d = date '2025-09-18' and v < 0.6 then null
            when extract(isodow from d) = 7 then
                 case when u < 0.45 then 'meta' when u < 0.70 then 'google' when u < 0.97 then 'direct' end
            else case when u < 0.55 then 'meta' when u < 0.85 then 'google' when u < 0.97 then 'direct' end
       end,
       round((20 + 180 * v)::numeric, 2)
from leads;
reset jit;
