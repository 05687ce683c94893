-- A temporary (never stored) table: a mark written inside the load transaction is there after COMMIT only if
-- the COMMIT really committed (DuckDB rolls back silently at COMMIT after an earlier error).
create temp table if not exists transaction_marks (token varchar not null)
