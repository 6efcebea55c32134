-- Text forms that the copy (json) and the checksums (jsonb text) depend on: the same in every
-- transaction of a tenant move (the snapshot on the primary, the copy at the new location,
-- the switch), whatever the server's or the role's defaults. One statement a line: the export
-- prints them, line by line, into the copy stream.
SET LOCAL TimeZone = 'UTC';
SET LOCAL extra_float_digits = 1;
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL bytea_output = 'hex';
