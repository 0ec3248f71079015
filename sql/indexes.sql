-- Indexes the endpoint queries rely on, created after the bulk load (setup
-- and `assay gen`) so that loading does not maintain them row by row.
--
-- fact_leads is read by day: the corrected queries match created_date_txt
-- against the window's canonical day spellings, which this index serves
-- (a cast `created_date_txt::date` cannot use it; see FINDINGS.md, KPI scan).
create index if not exists fact_leads_created_date_txt_idx
    on dashboards.fact_leads (created_date_txt);
