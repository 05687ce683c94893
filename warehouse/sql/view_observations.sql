-- Catalog indicators read from the current documents.
with current_docs as (
    select doc_id from document_versions where superseded_at is null
),

final as (
    select
        o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit, o.doc_id,
        o.fact_id, o.quote, o.flags, o.note, o.catalog, o.extra
    from observation_rows as o
    inner join current_docs as d on o.doc_id = d.doc_id
)

select * from final
