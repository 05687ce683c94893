-- Every run of the nightly job or of ingest, newest last.
with final as (
    select
        run_id, started_at, finished_at, status, documents_seen, documents_loaded, documents_rejected,
        message, command, pipeline_sha256
    from run_log
)

select * from final
