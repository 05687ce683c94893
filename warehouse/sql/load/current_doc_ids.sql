select doc_id from document_versions where superseded_at is null order by version_id
