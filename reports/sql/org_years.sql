-- Every organisation and year with a page: a year with a comparison (an observation, a change or a goal) or a
-- document, with the number of indicators compared that year.
-- `compared`: the table reports/sql/compared.sql makes once per render
with counted as (
    select org, year, count(*) as rows from compared group by org, year
),

documented as (
    select distinct org, period_year as year from documents
),

final as (
    select coalesce(c.org, d.org) as org, coalesce(c.year, d.year) as year, coalesce(c.rows, 0) as rows
    from counted as c
    full outer join documented as d on c.org = d.org and c.year = d.year
    order by org, year
)

select * from final
