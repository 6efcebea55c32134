-- Row count and an order-independent checksum of one tenant's rows ({tenant_id}) in {table}.
-- Rows are hashed as jsonb (keys sorted, so column order does not matter) under the text forms
-- of formats.sql. verify.sql prints the same query for the other side: keep the two alike
-- (tests/unit/test_moves.py compares them).
SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS digest
FROM (SELECT md5(to_jsonb(r)::text) AS h FROM {table} r WHERE r.tenant_id = {tenant_id}) hashed
