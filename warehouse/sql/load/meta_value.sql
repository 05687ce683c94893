select value from warehouse_meta where key = $key
