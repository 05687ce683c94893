-- Every quantity of some documents (a NULL list means all) with its sentence: the provenance a report links to.
with scoped as (
    select doc_id, fact_id, raw, char_start, char_end, sentence, sentence_start, section, flags
    from facts
    where $docs::varchar[] is null or doc_id in (select unnest($docs::varchar[]))
),

final as (
    select * from scoped
    order by doc_id, fact_id
)

select * from final
