-- AlterTable
ALTER TABLE "audit_event" ADD COLUMN     "chain" TEXT NOT NULL DEFAULT 'global',
ADD COLUMN     "hash" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "prev_hash" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "subject_digest" TEXT,
ADD COLUMN     "subject_salt" TEXT;

-- CreateTable
CREATE TABLE "audit_chain_head" (
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "last_hash" TEXT NOT NULL,
    "purged_through" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("chain")
);

-- The audit log (audit_event) is append-only and hash-chained, one chain per country plus
-- `global` for rows of no country. Everything below is computed in the database at insert, so
-- no writer (the gateway's receipts, the export worker, an operator's script) can chain a row
-- wrongly. docs/compliance/retention.md describes the rules and platform/audit/audit-chain.ts
-- verifies them with its own implementation of the encoding. (Bodies are E'' strings with their
-- quotes doubled and their semicolons written \073: the driver adapter splits a migration at
-- every semicolon.)

-- The canonical encoding: a field is `~` when null, else its length in bytes, `:` and its
-- text, and a list is `~` or `[`, its length, `:`, its fields and `]`. The row's hash is SHA-256 of
-- `kamina-audit-v1` and its fields in a fixed order, the previous row's hash last. `seq` is not
-- hashed: the order is the chain of hashes itself, so a verifier tells a moved row from a lost one.
CREATE OR REPLACE FUNCTION "audit_field"(value text) RETURNS text LANGUAGE sql IMMUTABLE
  AS E'SELECT CASE WHEN value IS NULL THEN ''~'' ELSE octet_length(value)::text || '':'' || value END';

CREATE OR REPLACE FUNCTION "audit_list"(items text[]) RETURNS text LANGUAGE sql IMMUTABLE
  AS E'SELECT CASE WHEN items IS NULL THEN ''~'' ELSE ''['' || cardinality(items)::text || '':''
  || coalesce((SELECT string_agg(audit_field(u.item), '''' ORDER BY u.n) FROM unnest(items) WITH ORDINALITY AS u(item, n)), '''')
  || '']'' END';

CREATE OR REPLACE FUNCTION "audit_event_hash"(e "audit_event") RETURNS text LANGUAGE sql STABLE
  AS E'SELECT encode(sha256(convert_to(''kamina-audit-v1''
  || audit_field(e.chain) || audit_field(e.id::text)
  || audit_field(to_char(e.at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"''))
  || audit_field(e.action) || audit_field(e.request_id) || audit_field(e.client_id)
  || audit_field(e.subject_digest) || audit_field(e.consent_id) || audit_field(e.country::text)
  || audit_list(e.scopes) || audit_list(e.fields) || audit_field(e.detail::text)
  || audit_field(e.prev_hash), ''UTF8'')), ''hex'')';

-- One head row per chain. The chains of the countries of the Country enum exist from the
-- start, so an insert never creates one (two inserts creating the same head would wait on each
-- other outside the lock order below).
INSERT INTO "audit_chain_head" ("chain", "seq", "last_hash") VALUES
  ('CL', 0, repeat('0', 64)), ('CO', 0, repeat('0', 64)), ('EC', 0, repeat('0', 64)),
  ('MX', 0, repeat('0', 64)), ('PE', 0, repeat('0', 64)), ('global', 0, repeat('0', 64));

-- The rows written before this migration are chained in id order.
DO E'DECLARE
  r record\073
  head record\073
  salt text\073
  chained text\073
BEGIN
  FOR r IN SELECT id, coalesce(country::text, ''global'') AS chain, user_id FROM audit_event ORDER BY id LOOP
    SELECT * INTO head FROM audit_chain_head h WHERE h.chain = r.chain\073
    salt := CASE WHEN r.user_id IS NULL THEN NULL ELSE replace(gen_random_uuid()::text, ''-'', '''') END\073
    UPDATE audit_event SET chain = r.chain, seq = head.seq + 1, prev_hash = head.last_hash, subject_salt = salt,
      subject_digest = CASE WHEN salt IS NULL THEN NULL ELSE encode(sha256(convert_to(salt || r.user_id, ''UTF8'')), ''hex'') END
      WHERE id = r.id\073
    UPDATE audit_event e SET hash = audit_event_hash(e) WHERE e.id = r.id RETURNING e.hash INTO chained\073
    UPDATE audit_chain_head SET seq = seq + 1, last_hash = chained WHERE chain = r.chain\073
  END LOOP\073
END';

CREATE UNIQUE INDEX "audit_event_chain_seq_key" ON "audit_event"("chain", "seq");

-- Locks a chain's head for the rest of the transaction and returns it. Heads are locked in one
-- order (their names, byte order), each after every head before it: a statement that inserts
-- rows of several countries (a batch of receipts) takes them in that order whatever order its
-- rows come in, so two such statements never wait on each other in a circle.
CREATE OR REPLACE FUNCTION "audit_lock_chain"(p_chain text)
  RETURNS TABLE ("chain" text, "seq" bigint, "last_hash" text, "purged_through" bigint) LANGUAGE plpgsql
  AS E'BEGIN
  PERFORM 1 FROM audit_chain_head h WHERE h.chain COLLATE "C" < p_chain COLLATE "C" ORDER BY h.chain COLLATE "C" FOR UPDATE\073
  RETURN QUERY SELECT h.chain, h.seq, h.last_hash, h.purged_through FROM audit_chain_head h WHERE h.chain = p_chain FOR UPDATE\073
  IF NOT FOUND THEN
    RAISE EXCEPTION ''audit chain % has no head row'', p_chain\073
  END IF\073
END';

-- Chains each new row: its chain, `seq` and `prev_hash` from the head, which it then moves.
-- The subject digest and salt are made here too. An `audit.purge` row (the retention purge's
-- checkpoint) must name the last row it purges, with its hash: only then may rows up to it be
-- deleted.
CREATE OR REPLACE FUNCTION "audit_event_chain"() RETURNS trigger LANGUAGE plpgsql
  AS E'DECLARE
  head record\073
  through bigint\073
BEGIN
  NEW.chain := coalesce(NEW.country::text, ''global'')\073
  SELECT * INTO head FROM audit_lock_chain(NEW.chain)\073
  NEW.seq := head.seq + 1\073
  NEW.prev_hash := head.last_hash\073
  through := head.purged_through\073
  IF NEW.action = ''audit.purge'' THEN
    through := (NEW.detail ->> ''purged_through_seq'')::bigint\073
    IF through IS NULL OR through <= head.purged_through OR through > head.seq
       OR NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.chain = NEW.chain AND e.seq = through AND e.hash = NEW.detail ->> ''last_purged_hash'') THEN
      RAISE EXCEPTION ''an audit.purge row names the last row it purges (purged_through_seq, last_purged_hash): a row of its chain after the previous purge''
        USING ERRCODE = ''check_violation''\073
    END IF\073
  END IF\073
  IF NEW.user_id IS NULL THEN
    NEW.subject_salt := NULL\073
    NEW.subject_digest := NULL\073
  ELSE
    NEW.subject_salt := replace(gen_random_uuid()::text, ''-'', '''')\073
    NEW.subject_digest := encode(sha256(convert_to(NEW.subject_salt || NEW.user_id, ''UTF8'')), ''hex'')\073
  END IF\073
  NEW.hash := audit_event_hash(NEW)\073
  UPDATE audit_chain_head SET seq = NEW.seq, last_hash = NEW.hash, purged_through = through WHERE chain = NEW.chain\073
  RETURN NEW\073
END';

CREATE TRIGGER "audit_event_chain" BEFORE INSERT ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_chain"();

-- No UPDATE and no DELETE, except: deleting rows a purge checkpoint covers (audit_purge), and
-- erasing a person, which may set `user_id` and `subject_salt` to null and change nothing else,
-- in a transaction that names that person in `kamina.audit_erasure` (the digest, still in the
-- chain, then links the row to nobody).
CREATE OR REPLACE FUNCTION "audit_event_guard"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN
  IF TG_OP = ''DELETE'' THEN
    IF OLD.seq <= (SELECT h.purged_through FROM audit_chain_head h WHERE h.chain = OLD.chain) THEN
      RETURN OLD\073
    END IF\073
    RAISE EXCEPTION ''audit_event is append-only: row % is not covered by a retention purge checkpoint'', OLD.id
      USING ERRCODE = ''insufficient_privilege''\073
  END IF\073
  IF OLD.user_id IS NOT NULL AND OLD.user_id = current_setting(''kamina.audit_erasure'', true)
     AND NEW.user_id IS NULL AND NEW.subject_salt IS NULL
     AND (NEW.id, NEW.at, NEW.action, NEW.request_id, NEW.client_id, NEW.consent_id, NEW.country, NEW.scopes, NEW.fields,
          NEW.detail, NEW.chain, NEW.seq, NEW.subject_digest, NEW.prev_hash, NEW.hash)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.at, OLD.action, OLD.request_id, OLD.client_id, OLD.consent_id, OLD.country, OLD.scopes, OLD.fields,
          OLD.detail, OLD.chain, OLD.seq, OLD.subject_digest, OLD.prev_hash, OLD.hash) THEN
    RETURN NEW\073
  END IF\073
  RAISE EXCEPTION ''audit_event is append-only: row % cannot be changed'', OLD.id
    USING ERRCODE = ''insufficient_privilege''\073
END';

CREATE TRIGGER "audit_event_guard" BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_guard"();

CREATE OR REPLACE FUNCTION "audit_event_no_truncate"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN
  RAISE EXCEPTION ''audit_event is append-only: TRUNCATE refused'' USING ERRCODE = ''insufficient_privilege''\073
END';

CREATE TRIGGER "audit_event_no_truncate" BEFORE TRUNCATE ON "audit_event"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_no_truncate"();

-- The heads move only inside audit_event's insert trigger (trigger depth 2 here).
CREATE OR REPLACE FUNCTION "audit_chain_head_guard"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION ''audit_chain_head is written only by the audit_event triggers'' USING ERRCODE = ''insufficient_privilege''\073
  END IF\073
  RETURN CASE WHEN TG_OP = ''DELETE'' THEN OLD ELSE NEW END\073
END';

CREATE TRIGGER "audit_chain_head_guard" BEFORE INSERT OR UPDATE OR DELETE ON "audit_chain_head"
  FOR EACH ROW EXECUTE FUNCTION "audit_chain_head_guard"();

-- The retention purge of one chain (realtime/retention): deletes the oldest rows, up to the last
-- one before the first row still inside the window (`at >= p_before`) and at most `p_limit` of
-- them, after chaining an `audit.purge` checkpoint that records how many, through which `seq`,
-- and the hash of the last one, so verification starts again from it. Safe to run concurrently
-- (the chain's head is locked) and again (nothing older left: nothing done, no checkpoint).
CREATE OR REPLACE FUNCTION "audit_purge"(p_chain text, p_before timestamptz, p_limit integer)
  RETURNS TABLE ("purged" bigint, "through_seq" bigint) LANGUAGE plpgsql
  AS E'DECLARE
  head record\073
  keep_from bigint\073
  through bigint\073
  last_purged text\073
  counted bigint\073
BEGIN
  SELECT * INTO head FROM audit_lock_chain(p_chain)\073
  SELECT e.seq INTO keep_from FROM audit_event e
    WHERE e.chain = p_chain AND e.seq > head.purged_through AND e.at >= p_before ORDER BY e.seq LIMIT 1\073
  through := least(coalesce(keep_from - 1, head.seq), head.purged_through + greatest(p_limit, 1))\073
  IF through <= head.purged_through THEN
    RETURN QUERY SELECT 0::bigint, head.purged_through\073
    RETURN\073
  END IF\073
  SELECT e.hash INTO last_purged FROM audit_event e WHERE e.chain = p_chain AND e.seq = through\073
  SELECT count(*) INTO counted FROM audit_event e WHERE e.chain = p_chain AND e.seq > head.purged_through AND e.seq <= through\073
  INSERT INTO audit_event (action, country, scopes, fields, detail)
    VALUES (''audit.purge'', CASE WHEN p_chain = ''global'' THEN NULL ELSE p_chain::"Country" END, ''{}'', ''{}'',
            jsonb_build_object(''purged_through_seq'', through, ''last_purged_hash'', last_purged, ''purged_rows'', counted,
                               ''before'', to_char(p_before AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'')))\073
  DELETE FROM audit_event e WHERE e.chain = p_chain AND e.seq <= through\073
  RETURN QUERY SELECT counted, through\073
END';
