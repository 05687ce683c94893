-- The documents the observations of a scope quote (organisations, indicators; a NULL list means all), and every
-- document of the scope's organisations: titles and dates for the sources, the document list of a page.
with cited as (
    select distinct doc_id
    from observations
    where ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
),

final as (
    select d.doc_id, d.org, d.title, d.kind, d.period_year, d.published_on, d.doc_number, d.source_file, d.sha256,
        d.chars
    from documents as d
    where d.doc_id in (select doc_id from cited)
        or ($indicators::varchar[] is null and $orgs::varchar[] is not null
            and d.org in (select unnest($orgs::varchar[])))
    order by d.org, d.period_year, d.doc_id, d.title, d.source_file
)

select * from final
