-- What each page is made of, as one row hash sum per organisation (its year pages), document and indicator, and
-- one for the catalogs: a page whose sum did not change shows the same thing, so it need not be read or rendered.
-- Sums of row hashes, not xor: two equal rows must not cancel out.
with docs as (
    select doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars
    from documents
),

-- an observation with what a page shows of it: its fact's sentence and span, its document's title and date
cited as materialized (
    select
        o.org, o.indicator_id, o.doc_id,
        hash(o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit, o.doc_id,
            o.fact_id, o.quote, o.flags, o.note, o.catalog, f.raw, f.char_start, f.sentence, f.sentence_start,
            d.title, d.published_on) as h
    from observations as o
    left join facts as f on f.doc_id = o.doc_id and f.fact_id = o.fact_id
    left join docs as d on d.doc_id = o.doc_id
),

yoy_rows as materialized (
    select org, indicator_id, hash(y) as h
    from (
        select org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
        from yoy
    ) as y
),

goal_rows as materialized (
    select org, indicator_id, hash(g) as h
    from (select org, indicator_id, year, target, target_high, actual, met from goals) as g
),

fact_rows as (
    select doc_id, hash(doc_id, fact_id, raw, char_start, char_end, sentence, sentence_start, section) as h
    from facts
),

org_parts as (
    select org, h from cited
    union all select org, h from yoy_rows
    union all select org, h from goal_rows
    union all select org, hash(d) as h from docs as d
),

document_parts as (
    select doc_id, h from cited
    union all select doc_id, h from fact_rows
    union all select doc_id, hash(d) as h from docs as d
),

indicator_parts as (
    select indicator_id, h from cited
    union all select indicator_id, h from yoy_rows
    union all select indicator_id, h from goal_rows
),

final as (
    select 'org' as kind, org as name, count(*) as n, sum(h::hugeint)::varchar as digest
    from org_parts group by org
    union all
    select 'document', doc_id, count(*), sum(h::hugeint)::varchar
    from document_parts where doc_id in (select doc_id from docs) group by doc_id
    union all
    select 'indicator', indicator_id, count(*), sum(h::hugeint)::varchar
    from indicator_parts group by indicator_id
    union all
    select 'catalog', '', count(*), coalesce(sum(hash(i)::hugeint), 0)::varchar
    from (select catalog, indicator_id, name, unit, aliases from indicators) as i
)

select * from final order by kind, name
