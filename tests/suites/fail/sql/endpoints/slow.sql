select 1 as x from pg_sleep(0.01)
