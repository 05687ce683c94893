select count(*) from transaction_marks where token = $token
