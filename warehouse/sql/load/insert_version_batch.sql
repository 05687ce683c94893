-- A batch of new current versions, numbered after every version already stored, in batch order.
insert into document_versions (
    version_id, doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars,
    loaded_at, superseded_at, superseded_by, encoding, warnings, run_id
)
select
    (select coalesce(max(version_id), 0) from document_versions) + b.position, b.doc_id, b.org, b.title, b.kind,
    b.period_year, b.published_on, b.doc_number, b.source_file, b.sha256, b.chars, $loaded_at, null, null,
    b.encoding, b.warnings, $run_id
from version_batch as b
order by b.position
