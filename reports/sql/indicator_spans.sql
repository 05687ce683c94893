-- Every indicator with data: the catalog its first observation names, and each organisation's first and last
-- year of it — the indicator pages and the index's list of them.
-- `compared`: the table reports/sql/compared.sql makes once per render
with first_catalog as (
    select indicator_id, arg_min(catalog, (org, year, basis, doc_id, coalesce(fact_id, 2147483647))) as catalog
    from observations
    group by indicator_id
),

spans as (
    select indicator_id, org, min(year) as first_year, max(year) as last_year
    from compared
    group by indicator_id, org
),

final as (
    select s.indicator_id, coalesce(f.catalog, '') as catalog, s.org, s.first_year, s.last_year
    from spans as s
    left join first_catalog as f using (indicator_id)
    order by s.indicator_id, s.org
)

select * from final
