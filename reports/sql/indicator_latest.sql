-- Each organisation's latest year of some indicators, with the observation each figure came from (this year's
-- value, last year's, the goal) chosen as the report chooses it everywhere: the closest value, an actual before a
-- derived one, the newest document, then by document and fact. For the page of an indicator many organisations
-- report: one row per organisation, each number linking to its sentence, without assembling a comparison.
with latest as (
    select
        y.org, y.indicator_id, y.year, y.value, y.prev_year, y.prev_value, y.change, y.change_pct,
        g.target, g.target_high, g.met,
        min(y.year) over (partition by y.org, y.indicator_id) as first_year
    from yoy as y
    left join goals as g using (org, indicator_id, year)
    where y.indicator_id in (select unnest($indicators::varchar[])) and y.value is not null
    qualify row_number() over (partition by y.org, y.indicator_id order by y.year desc) = 1
),

wanted as (
    select org, indicator_id, year, 'value' as role, value as near from latest
    union all
    select org, indicator_id, prev_year, 'prev', prev_value from latest where prev_value is not null
    union all
    select org, indicator_id, year, 'target', target from latest where target is not null
),

candidates as (
    select
        w.org, w.indicator_id, w.role, o.value_high, o.qualifier, o.unit, o.doc_id, o.fact_id,
        row_number() over (
            partition by w.org, w.indicator_id, w.role
            order by round(abs(o.value - w.near), 9), o.basis = 'derived', d.published_on desc nulls last,
                o.doc_id, coalesce(o.fact_id, -1)
        ) as pick
    from wanted as w
    inner join observations as o
        on o.org = w.org and o.indicator_id = w.indicator_id and o.year = w.year
        and ((w.role = 'target' and o.basis = 'target')
            or (w.role <> 'target' and o.basis in ('actual', 'derived')))
    left join documents as d on d.doc_id = o.doc_id
),

picked as (
    select * from candidates where pick = 1
),

final as (
    select
        l.indicator_id, l.org, l.year, l.first_year, l.value, l.prev_year, l.prev_value, l.change, l.change_pct,
        l.target, l.target_high, l.met,
        v.value_high, v.qualifier, v.unit, v.doc_id as value_doc, v.fact_id as value_fact,
        p.value_high as prev_high, p.qualifier as prev_qualifier, p.doc_id as prev_doc, p.fact_id as prev_fact,
        t.qualifier as target_qualifier, t.doc_id as target_doc, t.fact_id as target_fact
    from latest as l
    left join picked as v on v.org = l.org and v.indicator_id = l.indicator_id and v.role = 'value'
    left join picked as p on p.org = l.org and p.indicator_id = l.indicator_id and p.role = 'prev'
    left join picked as t on t.org = l.org and t.indicator_id = l.indicator_id and t.role = 'target'
    order by l.indicator_id, l.org
)

select * from final
