-- Every current document, in a fixed order.
with final as (
    select doc_id, org, title, kind, period_year, published_on, doc_number, source_file, sha256, chars
    from documents
    order by org, period_year, doc_id, title, source_file
)

select * from final
