-- The index's lists, sorted and cut in SQL from one row per organisation, indicator and year compared: the biggest
-- changes (not of rates), the stated changes that disagree or cannot be checked, ambiguous readings and goals with
-- no result yet — the first $rows of each (15 movers) with how many there are. Only those rows are assembled.
-- `compared`: the table reports/sql/compared.sql makes once per render
with readings as (
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

-- the catalog's unit of an indicator: the one its observation's catalog names, else the first catalog's
named as (
    select catalog, indicator_id, unit from indicators
),

first_named as (
    select indicator_id, arg_min(unit, catalog) as unit from indicators group by indicator_id
),

kinds as (
    select
        c.org, c.indicator_id, c.year, y.change_pct, g.met,
        coalesce(nullif(coalesce(n.unit, f.unit), ''), r.lead.unit, '') as unit,
        lower(coalesce(y."check", '')) as check_text,
        y.stated_change_pct is not null as stated,
        y.prev_value is null as no_prev,
        coalesce(r.has_change, false) as has_change,
        g.target is not null or coalesce(r.has_target, false) as has_goal,
        coalesce(r.ambiguous, false) as ambiguous
    from compared as c
    left join yoy as y using (org, indicator_id, year)
    left join goals as g using (org, indicator_id, year)
    left join readings as r using (org, indicator_id, year)
    left join named as n on n.catalog = r.lead.catalog and n.indicator_id = c.indicator_id
    left join first_named as f on f.indicator_id = c.indicator_id
),

checked as (
    select
        *,
        case
            when check_text like '%disagree%' or check_text like '%differ%' or check_text like '%不%'
                or check_text = 'false' then 'differs'
            when check_text like '%agree%' or check_text like '%一致%' or check_text in ('ok', 'true') then 'agrees'
            when stated then 'cannot'
            else 'none'
        end as "check"
    from kinds
),

listed as (
    select 'movers' as list, org, indicator_id, year, -abs(change_pct) as rank_value from checked
    where change_pct is not null and not isnan(change_pct) and unit not in ('%', '‰', '百分点')
    union all
    select 'differs', org, indicator_id, year, 0 from checked where "check" = 'differs'
    union all
    select 'unchecked', org, indicator_id, year, 0 from checked
    where "check" = 'cannot' or ("check" = 'none' and has_change and no_prev)
    union all
    select 'ambiguous', org, indicator_id, year, 0 from checked where ambiguous
    union all
    select 'goals-open', org, indicator_id, year, -year from checked where has_goal and met is null
),

ranked as (
    select
        *,
        row_number() over (partition by list order by rank_value, org, indicator_id, year) as place,
        count(*) over (partition by list) as total
    from listed
),

final as (
    select list, org, indicator_id, year, total
    from ranked
    where place <= (case when list = 'movers' then 15 else $rows end)
    order by list, place
)

select * from final
