insert into observation_rows
select
    doc_id, org, indicator_id, year, basis, value, value_high, qualifier, unit, fact_id, quote, flags, note,
    catalog, extra
from observation_batch
