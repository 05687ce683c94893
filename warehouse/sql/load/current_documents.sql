-- Everything needed to rebuild the Document records of current versions (all, or those in $doc_ids).
select
    v.doc_id, v.source_file, v.sha256, t.text, v.org, v.title, v.kind, v.period_year, v.published_on,
    v.doc_number, v.encoding, v.warnings
from document_versions as v
inner join document_texts as t on v.doc_id = t.doc_id
where v.superseded_at is null
  and ($doc_ids is null or list_contains($doc_ids, v.doc_id))
order by v.version_id
