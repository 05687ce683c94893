-- The current documents of some organisations, or those with some ids (a NULL list means all), in a fixed order.
with scoped as (
    select doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars
    from documents
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($docs::varchar[] is null or doc_id in (select unnest($docs::varchar[])))
),

final as (
    select * from scoped
    order by org, period_year, doc_id, title, source_file
)

select * from final
