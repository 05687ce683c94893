-- Every quantity of every document version, keyed by the content hash (doc_id).
create table if not exists fact_rows (
    doc_id varchar not null,
    fact_id integer not null,
    value double not null,
    unit varchar not null,
    raw varchar not null,
    qualifier varchar not null,
    value_high double,
    char_start integer not null,
    char_end integer not null,
    sentence varchar not null,
    section varchar not null,
    flags varchar[] not null,
    sentence_start integer not null,
    primary key (doc_id, fact_id)
)
