-- The quantities of some documents, grouped by the sentence that holds them (in document order, then in the order of
-- their fact ids): a document page marks every one. One flat row per fact, the sentence's rows together, each with
-- its sentence: DuckDB hands scalar rows to Python about twice as fast as one row of lists per sentence.
with scoped as (
    select doc_id, fact_id, raw, char_start, coalesce(sentence, '') as sentence, sentence_start,
        coalesce(sentence_start, -1) as sentence_key, section
    from facts
    where doc_id in (select unnest($docs::varchar[]))
),

final as (
    select doc_id, sentence_key, sentence, sentence_start, section, char_start, raw, fact_id
    from scoped
    order by doc_id, sentence_key, sentence, fact_id
)

select * from final
