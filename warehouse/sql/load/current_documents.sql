-- Everything needed to rebuild the Document records of current versions (all, or those in $doc_ids).
select
    doc_id, source_file, sha256, text, org, title, kind, period_year, published_on, doc_number, encoding,
    warnings
from document_versions
where superseded_at is null
  and ($doc_ids is null or list_contains($doc_ids, doc_id))
order by version_id
