delete from warehouse_meta where key = $key
