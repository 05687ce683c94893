insert into indicator_rows
select catalog, indicator_id, name, unit, aliases, detail from indicator_batch
