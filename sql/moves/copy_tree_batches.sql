-- Export-script SQL (run in the snapshot) for a table whose rows reference rows of the same
-- table (its foreign key {columns} -> {keys}, a folder's parent): like copy_batches.sql, in
-- bounded statements, with the tenant's rows in tree order: the roots (a null in the key's
-- columns), then their children, and so on, so every row comes in the statement of the row it
-- references or a later one, and each statement's foreign keys hold at its end. A row no root
-- leads to (a cycle) is not copied: the count check after the copy refuses the move. The query
-- starts with SELECT (its WITH inside), so that psql fetches it a row at a time (FETCH_COUNT).
-- Each statement is followed by the table's progress, as in copy_batches.sql.
SELECT format(
    $adx_template$INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::%1$I.%2$I, %3$L);$adx_template$,
    {schema}, {table}, json_agg(b.r ORDER BY b.n)
) || E'\n' || format('\warn adx-progress %s %s %s',
    regexp_replace({table}, '[^A-Za-z0-9_]', '_', 'g'), max(b.n), max(b.bytes))
FROM (
    WITH RECURSIVE tree AS (
        SELECT r, 0 AS depth FROM {source} r WHERE r.tenant_id = {tenant_id} AND ({roots})
        UNION ALL
        SELECT c, t.depth + 1
        FROM tree t JOIN {source} c ON {join}
        WHERE c.tenant_id = {tenant_id}
    )
    SELECT r, n, bytes, greatest((n - 1) / {batch}, (bytes - 1) / {batch_bytes}) AS batch
    FROM (
        SELECT r, row_number() OVER w AS n, sum(pg_column_size(r)) OVER w AS bytes
        FROM tree
        WINDOW w AS (ORDER BY depth ROWS UNBOUNDED PRECEDING)
    ) numbered
) b
GROUP BY b.batch ORDER BY b.batch;
