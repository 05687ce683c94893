-- Every quantity of every current document.
with current_docs as (
    select doc_id from document_versions where superseded_at is null
),

final as (
    select
        f.doc_id, f.fact_id, f.value, f.unit, f.raw, f.qualifier, f.value_high, f.char_start, f.char_end,
        f.sentence, f.section, f.flags, f.sentence_start
    from fact_rows as f
    inner join current_docs as d on f.doc_id = d.doc_id
)

select * from final
