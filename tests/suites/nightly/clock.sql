-- Rewritten by the test before every run: the night the run stands for.
create table shop.clock as select date '2025-09-01' as today;
