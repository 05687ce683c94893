-- What each page is made of, as one row hash sum per organisation-year page, document and indicator, and one for
-- the catalogs: a page whose sum did not change shows the same thing, so it need not be read or rendered.
-- Sums of row hashes, not xor: two equal rows must not cancel out.
--
-- An organisation's year page quotes more than its year: last year's value and indicators (for what was not
-- reported again), a value derived from next year's document, last year's goal (an observation of this year), and
-- the value each change was computed from (yoy's prev_year: the year before today; the page shows any). So the rows
-- are summed per organisation and year they speak of (a bucket), and a page of year y sums the buckets of y - 1, y,
-- y + 1 and of its changes' prev_year: a changed document re-renders about three year pages, not all eleven.
with docs as (
    select doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars
    from documents
),

-- an observation with what a page shows of it: its fact's sentence and span, its document's title and date
cited as materialized (
    select
        o.org, o.indicator_id, o.doc_id, o.year,
        hash(o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit, o.doc_id,
            o.fact_id, o.quote, o.flags, o.note, o.catalog, f.raw, f.char_start, f.sentence, f.sentence_start,
            d.title, d.published_on) as h
    from observations as o
    left join facts as f on f.doc_id = o.doc_id and f.fact_id = o.fact_id
    left join docs as d on d.doc_id = o.doc_id
),

yoy_rows as materialized (
    select org, indicator_id, year, prev_year, hash(y) as h
    from (
        select org, indicator_id, year, value, prev_year, prev_value, change, change_pct, stated_change_pct, "check"
        from yoy
    ) as y
),

goal_rows as materialized (
    select org, indicator_id, year, hash(g) as h
    from (select org, indicator_id, year, target, target_high, actual, met from goals) as g
),

fact_rows as (
    select doc_id, hash(doc_id, fact_id, raw, char_start, char_end, sentence, sentence_start, section) as h
    from facts
),

bucket_parts as (
    select org, year, h from cited
    union all select org, year, h from yoy_rows
    union all select org, year, h from goal_rows
    union all select org, period_year, hash(d) as h from docs as d
),

buckets as (
    select org, year, hash(org, year, count(*), sum(h::hugeint)) as h
    from bucket_parts group by org, year
),

-- the years each page sums: its neighbours, and the earlier years its changes start from
page_years as (
    select distinct org, year as page, year + d.k as year
    from (select distinct org, year from bucket_parts) as p, (values (-1), (0), (1)) as d (k)
    union
    select distinct org, year, prev_year from yoy_rows where prev_year is not null
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
    select 'org_year' as kind, p.page::varchar || ' ' || p.org as name, count(*) as n,
        sum(b.h::hugeint)::varchar as digest
    from page_years as p join buckets as b on b.org = p.org and b.year = p.year
    group by p.org, p.page
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
