-- Export-script SQL: prints a DO block for the new location that stops the copy with {message}
-- unless its migration ledger records, for the schema {schema}, every (stream, version) pair of
-- {streams} and {versions} (a concurrent or failed deploy may still be migrating it).
SELECT format(
    $adx_template$DO $adx_ready$ BEGIN IF EXISTS (SELECT 1 FROM unnest(%1$L::text[], %2$L::integer[]) AS w(stream, version) WHERE NOT EXISTS (SELECT 1 FROM adx_migrations.ledger l WHERE l.stream = w.stream AND l.version = w.version AND l.target_schema = %3$L)) THEN RAISE EXCEPTION %4$L; END IF; END $adx_ready$;$adx_template$,
    {streams}::text[], {versions}::integer[], {schema}, {message}
);
