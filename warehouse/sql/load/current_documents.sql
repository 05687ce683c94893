-- Everything needed to rebuild the Document records of the current versions (for rematching).
select
    doc_id, source_file, sha256, text, org, title, kind, period_year, published_on, doc_number, encoding,
    warnings
from document_versions
where superseded_at is null
order by version_id
