-- Every observation of a catalog indicator, in a fixed order.
with final as (
    select org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, quote, flags, note,
        catalog
    from observations
    order by org, indicator_id, year, basis, doc_id, fact_id nulls last, value
)

select * from final
