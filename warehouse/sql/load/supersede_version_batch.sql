-- A batch of new versions retires the current versions with the same source file or the same org/kind/year;
-- a version matched by several of the batch is retired by the first of them, as loading one by one would.
update document_versions
set superseded_at = $loaded_at, superseded_by = retired.doc_id
from (
    with by_file as (
        select v.version_id, b.position, b.doc_id
        from document_versions as v
        inner join version_batch as b on v.source_file = b.source_file
        where v.superseded_at is null and v.doc_id <> b.doc_id
    ),

    by_period as (
        select v.version_id, b.position, b.doc_id
        from document_versions as v
        inner join version_batch as b on v.org = b.org and v.kind = b.kind and v.period_year = b.period_year
        where v.superseded_at is null and v.doc_id <> b.doc_id
    ),

    final as (
        select version_id, arg_min(doc_id, position) as doc_id
        from (select * from by_file union all select * from by_period)
        group by version_id
    )

    select * from final
) as retired
where document_versions.version_id = retired.version_id
