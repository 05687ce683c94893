-- The observations of catalog indicators in a scope (organisations, indicators, documents; a NULL list means all),
-- in a fixed order.
with scoped as (
    select org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, quote, flags, note,
        catalog
    from observations
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
        and ($docs::varchar[] is null or doc_id in (select unnest($docs::varchar[])))
),

final as (
    select * from scoped
    -- every column: two observations equal in the leading ones (a derived value and its restatement) still come
    -- in one order, so pages are byte-identical whatever order the warehouse stored them in
    order by org, indicator_id, year, basis, doc_id, fact_id nulls last, value, value_high nulls last, qualifier,
        unit, quote, flags, note, catalog
)

select * from final
