-- Last year's goal against this year's result, in a scope (organisations, indicators; a NULL list means all).
with scoped as (
    select org, indicator_id, year, target, target_high, actual, met
    from goals
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
),

final as (
    select * from scoped
    order by org, indicator_id, year, target, target_high, actual, met
)

select * from final
