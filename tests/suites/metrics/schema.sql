create schema m;
create table m.visits (day date not null, source text, n integer not null);
-- 12 days: ads bring ~80 % of the visits (79 or 81 on alternate days), then 40 % on 2025-03-12.
insert into m.visits
select d::date, s.source,
       case when s.source = 'ad' then case when d::date = date '2025-03-12' then 40 else 80 + (extract(day from d)::int % 2) * 2 - 1 end
            else case when d::date = date '2025-03-12' then 60 else 20 - (extract(day from d)::int % 2) * 2 + 1 end
       end
from generate_series(date '2025-03-01', date '2025-03-12', interval '1 day') d,
     (values ('ad'), ('organic')) s(source);
