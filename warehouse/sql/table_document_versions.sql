-- Every version of every document ever loaded; the current one has superseded_at null.
create table if not exists document_versions (
    version_id integer not null,
    doc_id varchar not null,
    org varchar not null,
    title varchar not null,
    kind varchar not null,
    period_year integer not null,
    published_on date,
    doc_number varchar,
    source_file varchar not null,
    sha256 varchar not null,
    chars integer not null,
    loaded_at timestamp not null,
    superseded_at timestamp,
    superseded_by varchar,
    encoding varchar not null,
    warnings varchar[] not null,
    run_id varchar not null
)
