-- The indicators of every catalog, in a fixed order.
with final as (
    select catalog, indicator_id, name, unit, aliases
    from indicators
    order by catalog, indicator_id, name, unit, aliases
)

select * from final
