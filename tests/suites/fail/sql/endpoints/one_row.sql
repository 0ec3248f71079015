select 1::int8 as n, 'x'::text as label
