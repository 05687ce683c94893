-- Per indicator and year, how the organisations' values spread (first quartile, median, third quartile) and the
-- median of their goals: the one chart of an indicator many organisations report.
with values_by_year as (
    select
        indicator_id, year, count(*) as orgs,
        quantile_cont(value, 0.25) as low, quantile_cont(value, 0.5) as median, quantile_cont(value, 0.75) as high
    from yoy
    where indicator_id in (select unnest($indicators::varchar[])) and value is not null
    group by indicator_id, year
),

goals_by_year as (
    select indicator_id, year, quantile_cont(target, 0.5) as goal
    from goals
    where indicator_id in (select unnest($indicators::varchar[])) and target is not null
    group by indicator_id, year
),

final as (
    select v.indicator_id, v.year, v.orgs, v.low, v.median, v.high, g.goal
    from values_by_year as v
    left join goals_by_year as g using (indicator_id, year)
    order by v.indicator_id, v.year
)

select * from final
