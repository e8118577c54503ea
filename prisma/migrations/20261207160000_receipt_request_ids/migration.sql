-- A consent receipt may record several requests: the identical reads one client makes of one
-- person at the same moment (same consent, same fields, same token kind and operation name),
-- whose receipts are written by the same statement. Each request is named once: `request_id` is
-- the first, `request_ids` all of them (at least two, the first being `request_id`), null for a
-- row of one request. Twenty identical dashboard polls of a 20-person page were 400 rows, about
-- half of their time, and are now 20.
ALTER TABLE "audit_event" ADD COLUMN "request_ids" TEXT[];

ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_request_ids_check"
  CHECK ("request_ids" IS NULL OR (cardinality("request_ids") >= 2 AND "request_ids"[1] = "request_id"));

-- The encoding of a row without `request_ids` is unchanged (kamina-audit-v1), so every row
-- written before verifies as it did. A row with them is kamina-audit-v2: the same fields, then
-- the list of request ids, then `prev_hash` (platform/audit/audit-chain.ts).
CREATE OR REPLACE FUNCTION "audit_event_hash"(e "audit_event") RETURNS text LANGUAGE sql STABLE
  AS E'SELECT encode(sha256(convert_to(CASE WHEN e.request_ids IS NULL THEN ''kamina-audit-v1'' ELSE ''kamina-audit-v2'' END
  || audit_field(e.chain) || audit_field(e.id::text)
  || audit_field(to_char(e.at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"''))
  || audit_field(e.action) || audit_field(e.request_id) || audit_field(e.client_id)
  || audit_field(e.subject_digest) || audit_field(e.consent_id) || audit_field(e.country::text)
  || audit_list(e.scopes) || audit_list(e.fields) || audit_field(e.detail::text)
  || CASE WHEN e.request_ids IS NULL THEN '''' ELSE audit_list(e.request_ids) END
  || audit_field(e.prev_hash), ''UTF8'')), ''hex'')';

-- The guard as before, with `request_ids` among the columns an erasure must leave as they are.
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
     AND (NEW.id, NEW.at, NEW.action, NEW.request_id, NEW.request_ids, NEW.client_id, NEW.consent_id, NEW.country, NEW.scopes, NEW.fields,
          NEW.detail, NEW.chain, NEW.seq, NEW.subject_digest, NEW.prev_hash, NEW.hash)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.at, OLD.action, OLD.request_id, OLD.request_ids, OLD.client_id, OLD.consent_id, OLD.country, OLD.scopes, OLD.fields,
          OLD.detail, OLD.chain, OLD.seq, OLD.subject_digest, OLD.prev_hash, OLD.hash) THEN
    RETURN NEW\073
  END IF\073
  RAISE EXCEPTION ''audit_event is append-only: row % cannot be changed'', OLD.id
    USING ERRCODE = ''insufficient_privilege''\073
END';
