-- relay_outbox (prisma/migrations/*_relay_outbox_function) still read the whole outbox on some
-- sessions. PL/pgSQL plans a statement with parameters (the batch's ids, its size) for its
-- values five times, then may keep a generic plan for the rest of the session. Made while the
-- outbox held about fifty rows, the generic plan of the UPDATE joined the batch, estimated at
-- ten ids, to a walk of the whole primary key. Without sequential scans
-- (20261126211500_relay_outbox_index_plans) it walked the index instead of the table, and the
-- walk grew with the outbox (bench:realtime: 3,000 index entries read to position one row).
-- Planned for the values of each run, every statement sees how many ids the batch has (one, most
-- often) and finds them by key. Planning them costs less than a tenth of a millisecond a run.
ALTER FUNCTION "relay_outbox"(integer, text) SET plan_cache_mode = force_custom_plan;
