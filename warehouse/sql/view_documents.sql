-- The current version of every document.
with current_versions as (
    select * from document_versions where superseded_at is null
),

final as (
    select
        doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars,
        loaded_at, encoding, warnings, version_id
    from current_versions
)

select * from final
