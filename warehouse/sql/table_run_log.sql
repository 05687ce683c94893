-- One row per `tongbi run` / `tongbi ingest`, failed ones included.
create table if not exists run_log (
    run_id varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    documents_seen integer not null,
    documents_loaded integer not null,
    documents_rejected integer not null,
    message varchar not null,
    command varchar not null,
    pipeline_sha256 varchar
)
