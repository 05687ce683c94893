-- This year against last year, and the change the document states, per organisation, indicator and year, in a
-- scope (organisations, indicators; a NULL list means all).
with scoped as (
    select org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
    from yoy
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
),

final as (
    select * from scoped
    order by org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
)

select * from final
