-- The observations of some documents in the order of observations.sql, each with the sentence and offsets of the fact
-- it quotes (NULL when it quotes none, or a fact the warehouse lacks) and how many facts carry that id (a document
-- with a fact id twice is rendered the old way, which keeps the last): a document page's table, without a row a fact.
with scoped as (
    select org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, quote, flags, note,
        catalog
    from observations
    where doc_id in (select unnest($docs::varchar[]))
),

cited as (
    select f.doc_id, f.fact_id, count(*) as copies, any_value(f.sentence) as sentence,
        any_value(f.sentence_start) as sentence_start, any_value(f.char_start) as char_start, any_value(f.raw) as raw
    from facts as f
    where f.doc_id in (select unnest($docs::varchar[]))
        and (f.doc_id, f.fact_id) in (select (doc_id, fact_id) from scoped)
    group by f.doc_id, f.fact_id
),

final as (
    select s.org, s.indicator_id, s.year, s.basis, s.value, s.value_high, s.qualifier, s.unit, s.doc_id, s.fact_id,
        s.quote, s.note, s.catalog, c.copies, coalesce(c.sentence, '') as sentence, c.sentence_start, c.char_start,
        c.raw
    from scoped as s
    left join cited as c on c.doc_id = s.doc_id and c.fact_id = s.fact_id
    order by s.org, s.indicator_id, s.year, s.basis, s.doc_id, s.fact_id nulls last, s.value, s.value_high nulls last,
        s.qualifier, s.unit, s.quote, s.flags, s.note, s.catalog
)

select * from final
