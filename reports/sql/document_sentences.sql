-- The sentences of some documents that hold a quantity, in document order, each with its quantities (where the
-- number starts in the document, its text, its fact id): a document page marks every one. One row per sentence,
-- not per fact, so a province's 700,000 facts are never Python objects.
with scoped as (
    select doc_id, fact_id, raw, char_start, coalesce(sentence, '') as sentence, sentence_start,
        coalesce(sentence_start, -1) as sentence_key, section
    from facts
    where doc_id in (select unnest($docs::varchar[]))
),

final as (
    select
        doc_id, any_value(sentence_start) as sentence_start, sentence, min_by(section, fact_id) as section,
        list(char_start order by fact_id) as starts,
        list(raw order by fact_id) as raws,
        list(fact_id order by fact_id) as fact_ids
    from scoped
    group by doc_id, sentence_key, sentence
    order by doc_id, sentence_key, sentence
)

select * from final
