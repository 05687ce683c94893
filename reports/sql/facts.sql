-- Every quantity of every current document with its sentence: the provenance a report links to.
with final as (
    select doc_id, fact_id, raw, char_start, char_end, sentence, sentence_start, section, flags
    from facts
    order by doc_id, fact_id
)

select * from final
