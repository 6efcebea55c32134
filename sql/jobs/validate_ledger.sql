-- validate: the migration ledger, to compare with the files.
SELECT stream, target_schema, version, name, checksum
FROM adx_migrations.ledger
WHERE stream IN ('shared', 'tenant')
ORDER BY target_schema, stream, version
