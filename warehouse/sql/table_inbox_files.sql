-- What each loaded inbox file looked like, so an unchanged file is skipped without being read.
create table if not exists inbox_files (
    source_file varchar not null,
    size bigint not null,
    mtime_ns bigint not null,
    bytes_sha256 varchar not null,
    doc_id varchar not null,
    seen_at timestamp not null
)
