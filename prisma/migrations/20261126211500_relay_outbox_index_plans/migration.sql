-- relay_outbox runs on a connection that lives as long as the relay, and PL/pgSQL keeps a plan
-- per statement for the session. After a few runs it may keep a generic one: made while the
-- outbox was small, its sequential scans were the cheapest plan then and stayed as the table grew
-- (bench:realtime: 3 ms a run by the end of a window, four scans of the outbox per alert). Every
-- statement of the function finds its rows by key (the batch's ids, the partial index of
-- unpositioned rows, the position index), so the function plans without sequential scans: the
-- same plans at any size, whatever the statistics say.
ALTER FUNCTION "relay_outbox"(integer, text) SET enable_seqscan = off;
