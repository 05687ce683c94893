-- Goals against results: the target a document set for a year (basis target) and the actual for that year.
--   target, target_high  the goal; target_high only for a range (6.5%－7%)
--   actual               the year's result (from the document reviewing that year, else the latest that gives it)
--   met                  true / false, null while no result is known, by the goal's qualifier:
--                          at_least  actual >= target            (1100万人以上)
--                          at_most   actual <= target            (4.5%以内)
--                          range     target <= actual <= target_high, both ends included (6.5%－7%)
--                          about     |actual − target| <= 10 % of |target| (5%左右: 4.5 … 5.5), and likewise
--                          exact     a goal stated without a bound is read as approximate, unless the
--                                    catalog says the indicator's goals are a ceiling or a floor (the
--                                    observation's flags hold 'ceiling' / 'floor'): CPI 3%左右 is met at or
--                                    below 3 %
-- Where several documents set a goal for the same year, the earliest (the one that set it) wins.
-- Extra columns: qualifier, unit, target_doc_id, actual_doc_id.
create or replace view goals as
with docs as (
    select doc_id, period_year, published_on from documents
),

settings as (
    select 0.10 as about_tolerance
),

targets as (
    select
        o.org, o.indicator_id, o.year, o.value as target, o.value_high as target_high, o.qualifier, o.unit,
        o.doc_id,
        case
            when list_contains(o.flags, 'ceiling') then 'ceiling'
            when list_contains(o.flags, 'floor') then 'floor'
        end as sense,
        row_number() over (
            partition by o.org, o.indicator_id, o.year
            order by d.period_year, d.published_on nulls last, o.doc_id
        ) as pick
    from observations as o
    inner join docs as d on o.doc_id = d.doc_id
    where o.basis = 'target'
),

actuals as (
    select
        o.org, o.indicator_id, o.year, o.value as actual, o.doc_id,
        row_number() over (
            partition by o.org, o.indicator_id, o.year
            order by d.period_year = o.year desc, d.period_year desc, d.published_on desc nulls last, o.doc_id
        ) as pick
    from observations as o
    inner join docs as d on o.doc_id = d.doc_id
    where o.basis = 'actual'
),

joined as (
    select
        t.org, t.indicator_id, t.year, t.target, t.target_high, a.actual, t.qualifier, t.sense, t.unit,
        t.doc_id as target_doc_id, a.doc_id as actual_doc_id, s.about_tolerance
    from targets as t
    cross join settings as s
    left join actuals as a
        on a.org = t.org and a.indicator_id = t.indicator_id and a.year = t.year and a.pick = 1
    where t.pick = 1
),

final as (
    select
        org,
        indicator_id,
        year,
        target,
        target_high,
        actual,
        case
            when actual is null then null
            when qualifier = 'at_least' then actual >= target
            when qualifier = 'at_most' then actual <= target
            when qualifier = 'range' then actual between target and coalesce(target_high, target)
            when sense = 'ceiling' then actual <= target
            when sense = 'floor' then actual >= target
            else abs(actual - target) <= about_tolerance * abs(target)
        end as met,
        qualifier,
        unit,
        target_doc_id,
        actual_doc_id
    from joined
)

select * from final
