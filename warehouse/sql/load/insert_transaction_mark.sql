insert into transaction_marks (token) values ($token)
