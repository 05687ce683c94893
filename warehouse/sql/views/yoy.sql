-- Year over year: each year's result against the previous year's, and the change the document states.
--   value              the year's actual (from the document reviewing that year, else the latest that gives it)
--   prev_value         the previous year's actual (from the document reviewing that year), or failing that the
--                      value derived for it (e.g. 现有门店90家 − 门店增加14家 = 76), preferably by this year's document
--   change, change_pct value − prev_value, and that in per cent of prev_value (NULL when either is a range,
--                      e.g. 85%—90%, whose value is only its low end); for a growth rate (the catalog's
--                      measure "growth": 国内生产总值增长5.2%) the change is in percentage points and change_pct
--                      is NULL, since a per cent of a per cent means nothing
--   stated_change_pct  the per-cent change the document states for the year (basis change_pct: 比去年增幅18.4%)
--   check              'agrees' when the stated figure, at its own decimals, is within what the two printed values
--                      allow (18.42 vs 18.4: agrees; 18.6 vs 18.4: differs), 'differs', or 'cannot check' when
--                      either side is missing. A value printed with a magnitude or decimals is only as precise as
--                      its last digit: 粮食产量1.37万亿斤 two years running with 增产74亿斤 agrees, since each 1.37
--                      stands for anything within ±0.005万亿斤. An integer written out (90家) counts as exact.
--                      Failing a stated per cent, a stated absolute change (basis change: 比上年增加13个,
--                      提高2.3个百分点) is checked the same way against `change` — only when the previous value is
--                      an actual, since a derived one was computed from that very change.
-- Extra columns: unit, prev_basis ('actual' or 'derived'), doc_id (of value, else of the stated change),
-- measure ('level', 'flow' or 'growth', from the catalog), stated_change (the stated absolute change, in the
-- indicator's unit, or in percentage points for a per-cent indicator), tolerance (how far apart the stated and the
-- computed change may be for 'agrees', in their own unit: per cent for a stated per cent, else the indicator's).
create or replace view yoy as
with docs as (
    select doc_id, period_year, published_on from documents
),

measures as (
    select indicator_id, coalesce(json_extract_string(detail, '$.measure'), 'level') as measure from indicators
),

printed as (
    -- the number as the document prints it (1.37 of 1.37万亿斤) and the fact's value in its base unit
    select
        doc_id, fact_id, value as fact_value,
        regexp_extract(raw, '[0-9]+(\.[0-9]+)?') as digits
    from facts
),

ranked as (
    select
        o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.unit, o.doc_id,
        -- half a unit of the last printed digit, in the indicator's unit: 1.37万亿斤 → 0.005万亿斤 = 250万吨;
        -- 0 for an integer written out (90家), for a value derived by subtraction, and for Chinese numerals
        case
            when p.digits is null or p.digits = '' or try_cast(p.digits as double) is null
                or try_cast(p.digits as double) = 0 then 0
            when not contains(p.digits, '.') and abs(p.fact_value / try_cast(p.digits as double) - 1) < 1e-9 then 0
            else 0.5 * pow(10, -length(split_part(p.digits, '.', 2))) * abs(o.value / try_cast(p.digits as double))
        end as half_step,
        row_number() over (
            partition by o.org, o.indicator_id, o.year, o.basis
            order by
                d.period_year = o.year desc,      -- the document that reviews the year
                d.period_year = o.year + 1 desc,  -- a derived value comes from the next year's document
                d.period_year desc,
                d.published_on desc nulls last,
                o.doc_id
        ) as pick
    from observations as o
    inner join docs as d on o.doc_id = d.doc_id
    left join printed as p on o.doc_id = p.doc_id and o.fact_id = p.fact_id
    where o.basis in ('actual', 'derived', 'change', 'change_pct')
),

chosen as (
    select * from ranked where pick = 1
),

actuals as (
    select org, indicator_id, year, value, value_high, unit, doc_id, half_step from chosen where basis = 'actual'
),

derived as (
    select org, indicator_id, year, value from chosen where basis = 'derived'
),

stated as (
    select org, indicator_id, year, value as stated_change_pct, doc_id from chosen where basis = 'change_pct'
),

stated_abs as (
    select org, indicator_id, year, value as stated_change, half_step as stated_half_step
    from chosen where basis = 'change'
),

years as (
    select org, indicator_id, year from actuals
    union
    select org, indicator_id, year from stated
),

joined as (
    select
        y.org,
        y.indicator_id,
        y.year,
        a.value,
        coalesce(p.value, dv.value) as prev_value,
        -- a range (床位使用率85%—90%) on either side has no one value to subtract
        a.value_high is not null or p.value_high is not null as ranged,
        case when p.value is not null then 'actual' when dv.value is not null then 'derived' end as prev_basis,
        s.stated_change_pct,
        sa.stated_change,
        sa.stated_half_step,
        coalesce(a.half_step, 0) as value_half_step,
        case when p.value is not null then coalesce(p.half_step, 0) else 0 end as prev_half_step,
        a.unit,
        coalesce(a.doc_id, s.doc_id) as doc_id
    from years as y
    left join actuals as a
        on a.org = y.org and a.indicator_id = y.indicator_id and a.year = y.year
    left join actuals as p
        on p.org = y.org and p.indicator_id = y.indicator_id and p.year = y.year - 1
    left join derived as dv
        on dv.org = y.org and dv.indicator_id = y.indicator_id and dv.year = y.year - 1
    left join stated as s
        on s.org = y.org and s.indicator_id = y.indicator_id and s.year = y.year
    left join stated_abs as sa
        on sa.org = y.org and sa.indicator_id = y.indicator_id and sa.year = y.year
),

computed as (
    select
        j.*,
        coalesce(m.measure, 'level') as measure,
        case when j.prev_value is not null then j.year - 1 end as prev_year,
        case when not j.ranged then j.value - j.prev_value end as change,
        case
            when m.measure = 'growth' or j.ranged then null
            when j.prev_value <> 0 then 100 * (j.value - j.prev_value) / abs(j.prev_value)
        end as change_pct,
        -- decimals the stated figure was written with: 18.4 → 1, 10 → 0
        length(rtrim(split_part(cast(stated_change_pct as varchar), '.', 2), '0')) as stated_decimals,
        length(rtrim(split_part(cast(abs(stated_change) as varchar), '.', 2), '0')) as stated_change_decimals
    from joined as j
    left join measures as m on j.indicator_id = m.indicator_id
),

-- the per cent change at the four corners of what the printed values allow; its extremes lie at corners, since
-- (a − p) / |p| is monotonic in a and in p while p keeps its sign
corners as (
    select
        *,
        case
            when change_pct is not null and sign(prev_value - prev_half_step) = sign(prev_value + prev_half_step)
                and prev_value - prev_half_step <> 0 then
                list_min([
                    100 * (value - value_half_step - (prev_value + prev_half_step)) / abs(prev_value + prev_half_step),
                    100 * (value - value_half_step - (prev_value - prev_half_step)) / abs(prev_value - prev_half_step)
                ])
        end as change_pct_low,
        case
            when change_pct is not null and sign(prev_value - prev_half_step) = sign(prev_value + prev_half_step)
                and prev_value - prev_half_step <> 0 then
                list_max([
                    100 * (value + value_half_step - (prev_value + prev_half_step)) / abs(prev_value + prev_half_step),
                    100 * (value + value_half_step - (prev_value - prev_half_step)) / abs(prev_value - prev_half_step)
                ])
        end as change_pct_high,
        0.5 * pow(10, -stated_decimals) as stated_pct_half_step,
        greatest(0.5 * pow(10, -stated_change_decimals), coalesce(stated_half_step, 0)) as stated_change_half_step
    from computed
),

final as (
    select
        org,
        indicator_id,
        year,
        value,
        prev_year,
        prev_value,
        change,
        change_pct,
        stated_change_pct,
        case
            when change_pct is not null and stated_change_pct is not null then
                case
                    when change_pct_low is null
                        and abs(change_pct - stated_change_pct) <= stated_pct_half_step + 1e-9 then 'agrees'
                    when stated_change_pct between change_pct_low - stated_pct_half_step - 1e-9
                        and change_pct_high + stated_pct_half_step + 1e-9 then 'agrees'
                    else 'differs'
                end
            when change is not null and stated_change is not null and prev_basis = 'actual' then
                case
                    when abs(change - stated_change)
                        <= value_half_step + prev_half_step + stated_change_half_step + 1e-9 then 'agrees'
                    else 'differs'
                end
            else 'cannot check'
        end as "check",
        unit,
        prev_basis,
        doc_id,
        measure,
        stated_change,
        -- rounded to 9 decimals: 502.5, not the 502.49999999999994 of binary fractions
        round(case
            when change_pct is not null and stated_change_pct is not null then
                coalesce(greatest(change_pct_high - change_pct, change_pct - change_pct_low), 0)
                + stated_pct_half_step
            when change is not null and stated_change is not null and prev_basis = 'actual' then
                value_half_step + prev_half_step + stated_change_half_step
        end, 9) as tolerance
    from corners
)

select * from final
