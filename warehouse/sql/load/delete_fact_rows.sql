delete from fact_rows where list_contains($doc_ids, doc_id)
