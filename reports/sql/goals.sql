-- Last year's goal against this year's result.
with final as (
    select org, indicator_id, year, target, target_high, actual, met
    from goals
    order by org, indicator_id, year, target, target_high, actual, met
)

select * from final
