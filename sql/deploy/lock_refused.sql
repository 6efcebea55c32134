-- Another deploy held the migration lock of this database through every try of the backoff.
DO $adx$ BEGIN RAISE EXCEPTION 'another deploy holds the migration lock of this database' USING ERRCODE = 'lock_not_available'; END $adx$;
