delete from observation_rows where list_contains($doc_ids, doc_id)
