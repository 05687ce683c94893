-- The facts the observations of a scope quote (organisations, indicators, documents; a NULL list means all): a page of
-- comparisons needs the sentences of its own numbers only, never every fact of the warehouse.
with cited as (
    select distinct doc_id, fact_id
    from observations
    where fact_id is not null
        and ($orgs::varchar[] is null or org in (select unnest($orgs::varchar[])))
        and ($indicators::varchar[] is null or indicator_id in (select unnest($indicators::varchar[])))
        and ($docs::varchar[] is null or doc_id in (select unnest($docs::varchar[])))
),

final as (
    select f.doc_id, f.fact_id, f.raw, f.char_start, f.char_end, f.sentence, f.sentence_start, f.section, f.flags
    from facts as f
    inner join cited using (doc_id, fact_id)
    order by f.doc_id, f.fact_id
)

select * from final
