-- Per organisation, indicator and year compared: what the index sorts its lists by (the biggest changes, the
-- changes that disagree or cannot be checked, ambiguous readings, goals without a result), without assembling
-- a single comparison. The index then assembles only the rows it shows.
with compared as (
    select org, indicator_id, year from observations
    union
    select org, indicator_id, year from yoy
    union
    select org, indicator_id, year from goals
),

readings as (
    select
        org, indicator_id, year,
        bool_or(basis = 'change') as has_change,
        bool_or(basis = 'target') as has_target,
        bool_or(list_contains(flags, 'ambiguous')) as ambiguous,
        -- the observation the comparison takes its catalog and unit from: by basis, then in the stored order
        arg_min({'catalog': catalog, 'unit': unit}, (
            case basis when 'actual' then 0 when 'target' then 1 when 'derived' then 2 when 'change' then 3
                when 'change_pct' then 4 else 5 end,
            doc_id, coalesce(fact_id, 2147483647))) as lead
    from observations
    group by org, indicator_id, year
),

final as (
    select
        c.org, c.indicator_id, c.year,
        y."check", y.stated_change_pct, y.change_pct, y.prev_value,
        coalesce(r.has_change, false) as has_change,
        coalesce(r.has_target, false) as has_target,
        coalesce(r.ambiguous, false) as ambiguous,
        coalesce(r.lead.catalog, '') as catalog, coalesce(r.lead.unit, '') as unit,
        g.target, g.met
    from compared as c
    left join yoy as y using (org, indicator_id, year)
    left join goals as g using (org, indicator_id, year)
    left join readings as r using (org, indicator_id, year)
    order by c.org, c.indicator_id, c.year
)

select * from final
