-- Every doc_id that has ever been loaded (a new doc_id has no facts or observations to replace).
select distinct doc_id from document_versions
