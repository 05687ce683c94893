-- The normalised text of every document version, once per content hash; char_start/char_end point into it.
create table if not exists document_texts (
    doc_id varchar not null,
    text varchar not null,
    primary key (doc_id)
)
