-- A new version of a document retires the current one with the same source file or the same org/kind/year.
update document_versions
set superseded_at = $loaded_at, superseded_by = $doc_id
where superseded_at is null
  and doc_id <> $doc_id
  and (source_file = $source_file or (org = $org and kind = $kind and period_year = $period_year))
