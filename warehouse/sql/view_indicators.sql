-- The indicators of every catalog in schemas/.
with final as (
    select catalog, indicator_id, name, unit, aliases, detail from indicator_rows
)

select * from final
