-- The text depends on the content only, so a doc_id already present keeps its row.
insert into document_texts (doc_id, text)
select $doc_id, $text
where not exists (select 1 from document_texts where doc_id = $doc_id)
