-- The observations of catalog indicators in a scope (organisations, indicators, documents; a NULL list means all) in
-- the order of observations.sql, each with the fact it quotes (the columns of cited_facts.sql): a page of comparisons
-- reads its numbers and their sentences in one pass. The quote is kept only where there is no sentence to show.
with scoped as (
    select org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id, quote, flags, note,
        catalog
    from observations
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
        and ($docs::varchar[] is null or doc_id in (select unnest($docs::varchar[])))
),

quoted as (
    select
        o.*,
        f.fact_id is not null as has_fact, f.raw, f.char_start, f.sentence, f.sentence_start, f.section
    from scoped as o
    left join facts as f on o.fact_id is not null and f.doc_id = o.doc_id and f.fact_id = o.fact_id
),

final as (
    select
        org, indicator_id, year, basis, value, value_high, qualifier, unit, doc_id, fact_id,
        case when has_fact and coalesce(sentence, '') <> '' then null else quote end as quote,
        flags, note, catalog, has_fact, raw, char_start, sentence, sentence_start, section
    from quoted
    order by org, indicator_id, year, basis, doc_id, fact_id nulls last, value, value_high nulls last, qualifier,
        unit, quoted.quote, flags, note, catalog
)

select * from final
