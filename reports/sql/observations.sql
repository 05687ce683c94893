-- Every observation of a catalog indicator, in a fixed order.
with final as (
    select org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, quote, flags, note,
        catalog
    from observations
    -- every column: two observations equal in the leading ones (a derived value and its restatement) still come
    -- in one order, so pages are byte-identical whatever order the warehouse stored them in
    order by org, indicator_id, year, basis, doc_id, fact_id nulls last, value, value_high nulls last, qualifier,
        unit, quote, flags, note, catalog
)

select * from final
