-- The facts of documents that hold none: the caller deleted the rows of every document it loads again, so
-- no anti join against fact_rows is needed (it cost a scan of every stored fact per batch; a duplicate
-- still fails on the primary key).
insert into fact_rows (
    doc_id, fact_id, value, unit, raw, qualifier, value_high, char_start, char_end, sentence, section, flags,
    sentence_start
)
select
    doc_id, fact_id, value, unit, raw, qualifier, value_high, char_start, char_end, sentence, section, flags,
    sentence_start
from fact_batch
