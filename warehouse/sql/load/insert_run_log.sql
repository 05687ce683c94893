insert into run_log (
    run_id, started_at, finished_at, status, documents_seen, documents_loaded, documents_rejected, message,
    command, pipeline_sha256
)
values (
    $run_id, $started_at, $finished_at, $status, $documents_seen, $documents_loaded, $documents_rejected,
    $message, $command, $pipeline_sha256
)
