-- This year against last year, and the change the document states, per organisation, indicator and year.
with final as (
    select org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
    from yoy
    order by org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
)

select * from final
