-- The indicator catalogs as loaded on the last run (replaced whenever schemas/ changes).
create table if not exists indicator_rows (
    catalog varchar not null,
    indicator_id varchar not null,
    name varchar not null,
    unit varchar not null,
    aliases varchar[] not null,
    detail varchar not null
)
