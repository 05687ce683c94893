-- The latest run: the one date a report shows, taken from the warehouse and never from the clock.
with ordered as (
    select run_id, started_at, finished_at, status, documents_loaded, documents_rejected
    from runs
    order by started_at desc, run_id desc
    limit 1
),

final as (
    select * from ordered
)

select * from final
