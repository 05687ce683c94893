-- The run the data is from: the latest that published (ok, or ok with some documents rejected); failing any, the
-- latest at all. The one date a report shows, taken from the warehouse and never from the clock.
with ordered as (
    select
        run_id, started_at, finished_at, status, documents_loaded, documents_rejected,
        status in ('ok', 'rejected') as published
    from runs
    order by published desc, started_at desc, run_id desc
    limit 1
),

final as (
    select run_id, started_at, finished_at, status, documents_loaded, documents_rejected from ordered
)

select * from final
