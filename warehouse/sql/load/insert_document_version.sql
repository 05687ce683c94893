insert into document_versions (
    version_id, doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars,
    loaded_at, superseded_at, superseded_by, encoding, warnings, run_id
)
select
    coalesce(max(version_id), 0) + 1, $doc_id, $org, $title, $kind, $period_year, $published_on, $doc_number,
    $source_file, $sha256, $chars, $loaded_at, null, null, $encoding, $warnings, $run_id
from document_versions
