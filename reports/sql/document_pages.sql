-- What a chunk of document pages shows, from one read of their facts (the sentences of 10,000 documents are most of
-- the warehouse, and reading them is most of a query's time): the rows of part 0 are the documents' texts, one row a
-- document; those of part 1 the documents' observations in the order of observations.sql, each with the fact it
-- quotes. Python receives a row a document and a row an observation, never a row a fact.
--
-- A text is the sentences holding a quantity in document order, every quantity marked and anchored
-- (<mark id="f-<fact_id>">), a section heading where the section changes, escaped as markupsafe escapes (& < > " '):
-- byte for byte what `document_text` writes of `_sentences_of`'s marks. It is NULL for a document this does not mark
-- as Python would, whose page is assembled in Python: a fact without a sentence offset or an id (Python then tells
-- sentences apart by their text), two sentences at one offset, a fact's offset before its sentence (Python's slice
-- would count from the end), two marks that overlap.
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
    select *,
        case
            when raw is null or raw = '' then null
            when relative >= 0 and substring(sentence, relative + 1, length(raw)) = raw then relative
            else nullif(instr(sentence, raw), 0) - 1
        end as mark_start,
        raw <> '' and relative < 0 as before_sentence
    from scoped
),

-- in a sentence, marks in order of (start, end, fact id) as `_marks` sorts them; each with the end of the one before
ordered as (
    select *,
        mark_start + length(raw) as mark_end,
        coalesce(lag(mark_start + length(raw)) over sentence_marks, 0) as gap_start,
        first_value(sentence) over sentence_marks <> sentence as other_sentence
    from located
    window sentence_marks as (partition by sentence_key order by mark_start, length(raw), fact_id)
),

-- each mark with the text since the mark before it
pieces as (
    select *,
        replace(replace(replace(replace(replace(substring(sentence, gap_start + 1, mark_start - gap_start),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;')
        || '<mark id="f-' || fact_id || '">'
        || replace(replace(replace(replace(replace(substring(sentence, mark_start + 1, mark_end - mark_start),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;')
        || '</mark>' as piece
    from ordered
),

-- a sentence: its marks, then the rest of its text; its section is its first fact's
sentences as (
    select sentence_key, any_value(doc_no) as doc_no, arg_min(section, fact_id) as section,
        coalesce(string_agg(piece, '' order by mark_start), '')
        || replace(replace(replace(replace(replace(
            substring(any_value(sentence), coalesce(max(mark_end), 0) + 1),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') as html,
        bool_or(unkeyed or other_sentence or coalesce(before_sentence or mark_start < gap_start, false)) as odd
    from pieces
    group by sentence_key
),

headed as (
    select *,
        case when doc_no is distinct from lag(doc_no) over in_order or section <> lag(section) over in_order
            then '<p class="sec">' || replace(replace(replace(replace(replace(section,
                '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&#34;'), '''', '&#39;') || '</p>'
            else ''
        end as heading
    from sentences
    window in_order as (order by sentence_key)
),

texts as (
    select w.doc_id,
        case when not bool_or(h.odd) then string_agg(h.heading || '<p class="s">' || h.html || '</p>' || chr(10), ''
            order by h.sentence_key) end as html
    from headed as h
    inner join wanted as w on h.doc_no = w.doc_no
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
        any_value(l.mark_start) as mark_start, any_value(l.mark_start + length(l.raw)) as mark_end
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
order by part, seq
