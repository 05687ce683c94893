-- Facts depend on the content only, so a document id already present keeps its rows.
insert into fact_rows (
    doc_id, fact_id, value, unit, raw, qualifier, value_high, char_start, char_end, sentence, section, flags,
    sentence_start
)
select
    b.doc_id, b.fact_id, b.value, b.unit, b.raw, b.qualifier, b.value_high, b.char_start, b.char_end,
    b.sentence, b.section, b.flags, b.sentence_start
from fact_batch as b
anti join fact_rows as f on b.doc_id = f.doc_id
