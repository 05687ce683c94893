-- Facts read as catalog indicators, for every document version (rematched when the catalogs change).
create table if not exists observation_rows (
    doc_id varchar not null,
    org varchar not null,
    indicator_id varchar not null,
    year integer not null,
    basis varchar not null,
    value double not null,
    value_high double,
    qualifier varchar not null,
    unit varchar not null,
    fact_id integer,
    quote varchar not null,
    flags varchar[] not null,
    note varchar not null,
    catalog varchar,
    extra varchar not null
)
