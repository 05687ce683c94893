-- Small facts about the warehouse itself (schemas hash, last transaction token), as key and value.
create table if not exists warehouse_meta (
    key varchar not null,
    value varchar not null
)
