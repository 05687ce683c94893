-- What a chunk of document pages shows, from one read of their facts (the sentences of 10,000 documents are most of
-- the warehouse, and reading them is most of a query's time): the rows of part 0 are the documents' texts, one row a
-- document; those of part 1 the documents' observations, seq their place in the order of observations.sql, each with
-- the fact it quotes. Python receives a row a document and a row an observation, never a row a fact; the rows come in
-- no order (sorting the texts with the observations cost more than the sort Python makes of each table anyway).
--
-- A text is the sentences holding a quantity in document order, every quantity marked and anchored
-- (<mark id="f-<fact_id>">), a section heading where the section changes, escaped as markupsafe escapes (& < > " '):
-- byte for byte what `document_text` writes of `_sentences_of`'s marks. It is NULL for a document this does not mark
-- as Python would, whose page is assembled in Python: a fact without a sentence offset or an id (Python then tells
-- sentences apart by their text), two sentences at one offset, a fact's offset before its sentence (Python's slice
-- would count from the end), two marks that overlap, a sentence whose facts name different sections (Python heads it
-- with its first fact's). A province's warehouse holds none of these.
--
-- An observation's fact: how many facts carry its id (NULL: none; a document quoting an id twice is assembled in
-- Python, which keeps the last), its sentence and the span `_locate` finds in it; quote is the observation's own
-- quote where the fact gives no sentence.
with wanted as (
    select unnest($docs::varchar[]) as doc_id, unnest(range(len($docs::varchar[]))) as doc_no
),

-- a sentence is keyed by one number, the document's place in $docs and the sentence's offset: sorting and
-- partitioning by it is several times cheaper than by text
scoped as (
    select w.doc_no, w.doc_no * 4294967296 + coalesce(f.sentence_start, -1) as sentence_key, f.fact_id,
        coalesce(f.sentence, '') as sentence, f.raw, coalesce(f.section, '') as section,
        coalesce(f.char_start, 0) - f.sentence_start as relative,
        f.sentence_start is null or f.fact_id is null as unkeyed
    from facts as f
    inner join wanted as w on f.doc_id = w.doc_id
),

-- `_locate`: the raw text at its offset when it is there, else its first occurrence; an empty raw marks nothing
located as materialized (
    select *, mark_start + length(raw) as mark_end
    from (
        select *,
            case
                when raw is null or raw = '' then null
                when relative >= 0 and substring(sentence, relative + 1, length(raw)) = raw then relative
                else nullif(instr(sentence, raw), 0) - 1
            end as mark_start,
            raw <> '' and relative < 0 as before_sentence
        from scoped
    )
),

-- a document's facts in order: by sentence, then by (start, end, fact id) as `_marks` sorts a sentence's marks, those
-- marking nothing last; each with what it needs of the row before and after it
ordered as (
    select *,
        lag(sentence_key) over in_order is distinct from sentence_key as opens,
        lag(sentence_key) over in_order is null as opens_document,
        lead(sentence_key) over in_order is distinct from sentence_key or lead(mark_start) over in_order is null
            as closes,
        lag(mark_end) over in_order as end_before,
        lag(section) over in_order as section_before,
        lag(sentence) over in_order as sentence_before
    from located
    window in_order as (partition by doc_no order by sentence_key, mark_start, mark_end, fact_id)
),

-- the text each row adds: a sentence's first row opens its paragraph, after a heading where the section changes;
-- a mark adds the text since the mark before it and itself, the last mark the rest of the sentence; a sentence
-- marking nothing is its first row's; the other rows marking nothing add nothing
cut as (
    select doc_no, sentence_key, mark_start, mark_end, fact_id, opens,
        not (contains(sentence, '&') or contains(sentence, '<') or contains(sentence, '>') or contains(sentence, '"')
            or contains(sentence, '''')) as plain,
        case when opens and (opens_document or section <> section_before) then section end as heading,
        case
            when mark_start is null and opens then sentence
            when mark_start is not null then substring(sentence, (case when opens then 0 else end_before end) + 1,
                mark_start - (case when opens then 0 else end_before end))
        end as before_mark,
        case when mark_start is not null then raw end as marked,  -- what was found is the raw text
        case when mark_start is null and opens then '' when closes then substring(sentence, mark_end + 1) end
            as after_mark,
        -- what Python marks otherwise (see the top): a row of a sentence unlike the row before it
        unkeyed or coalesce(before_sentence, false) or (not opens and (sentence <> sentence_before
            or section <> section_before or coalesce(mark_start < end_before, false))) as odd
    from ordered
),

-- escaped as markupsafe escapes (& < > " '); escaping is most of the work of a piece, and most sentences hold nothing
-- to escape
escaped as (
    select doc_no, sentence_key, mark_start, mark_end, fact_id, odd, opens,
        replace(replace(replace(replace(replace(heading,
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') as heading,
        case when plain then before_mark else replace(replace(replace(replace(replace(before_mark,
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') end as before_mark,
        case when plain then marked else replace(replace(replace(replace(replace(marked,
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') end as marked,
        case when plain then after_mark else replace(replace(replace(replace(replace(after_mark,
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') end as after_mark
    from cut
),

pieces as (
    select doc_no, sentence_key, mark_start, mark_end, fact_id, odd,
        coalesce('<p class="sec">' || heading || '</p>', '')
        || case when opens then '<p class="s">' else '' end
        || coalesce(before_mark, '')
        || coalesce('<mark id="f-' || fact_id || '">' || marked || '</mark>', '')
        || coalesce(after_mark || '</p>' || chr(10), '') as piece
    from escaped
),

texts as (
    select w.doc_id,
        case when not bool_or(p.odd) then
            string_agg(p.piece, '' order by p.sentence_key, p.mark_start, p.mark_end, p.fact_id)
        end as html
    from pieces as p
    inner join wanted as w on p.doc_no = w.doc_no
    group by w.doc_id
),

observed as (
    select o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier, o.unit, o.doc_id, o.fact_id,
        o.quote, o.note, o.catalog, w.doc_no,
        row_number() over (
            order by o.org, o.indicator_id, o.year, o.basis, o.doc_id, o.fact_id nulls last, o.value,
                o.value_high nulls last, o.qualifier, o.unit, o.quote, o.flags, o.note, o.catalog) as seq
    from observations as o
    inner join wanted as w on o.doc_id = w.doc_id
),

cited as (
    select l.doc_no, l.fact_id, count(*) as copies, any_value(l.sentence) as sentence,
        any_value(l.mark_start) as mark_start, any_value(l.mark_end) as mark_end
    from located as l
    inner join (select distinct doc_no, fact_id from observed) as q on l.doc_no = q.doc_no and l.fact_id = q.fact_id
    group by l.doc_no, l.fact_id
),

final as (
    select 0 as part, 0 as seq, doc_id, html, null as org, null as indicator_id, null as year, null as basis,
        null as value, null as value_high, null as qualifier, null as unit, null as fact_id, null as note,
        null as catalog, null as copies, null as sentence, null as mark_start, null as mark_end, null as quote
    from texts
    union all
    select 1, o.seq, o.doc_id, null, o.org, o.indicator_id, o.year, o.basis, o.value, o.value_high, o.qualifier,
        o.unit, o.fact_id, o.note, o.catalog, c.copies, c.sentence, c.mark_start, c.mark_end,
        case when c.copies is null or c.sentence = '' then o.quote end
    from observed as o
    left join cited as c on o.doc_no = c.doc_no and o.fact_id = c.fact_id
)

select * from final
