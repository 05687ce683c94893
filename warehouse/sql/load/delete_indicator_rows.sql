delete from indicator_rows
