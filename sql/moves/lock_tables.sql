-- The switch holds off the writers of the old tables {tables} (of every tenant) from here to
-- COMMIT; readers go on. SHARE ROW EXCLUSIVE conflicts with itself, so two switches queue
-- instead of deadlocking, and the whole LOCK gets {lock_timeout} once, not once per table.
SET LOCAL statement_timeout = {lock_timeout};
LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE;
SET LOCAL statement_timeout = 0;
