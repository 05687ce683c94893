-- The text depends on the content only, so a doc_id already present keeps its row.
insert or ignore into document_texts (doc_id, text)
select b.doc_id, b.text from version_batch as b
