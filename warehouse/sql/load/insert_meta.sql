insert into warehouse_meta (key, value) values ($key, $value)
