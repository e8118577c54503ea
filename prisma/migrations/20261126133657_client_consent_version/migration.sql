-- AlterTable
ALTER TABLE "partner_client" ADD COLUMN     "consent_version" BIGINT NOT NULL DEFAULT 0;

-- Any change to a client's consents moves its consent_version in the same transaction, so a
-- subgraph that read the version with a request's token knows whether the consent grants it
-- keeps for that client still hold. Only the columns that decide what a consent grants count.
-- (E'' bodies with \073 for semicolons: the driver adapter splits scripts at every semicolon.)
CREATE OR REPLACE FUNCTION "consent_bump_client_version"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN IF TG_OP <> ''INSERT'' THEN UPDATE partner_client SET consent_version = consent_version + 1 WHERE id = OLD.client_id\073 END IF\073 IF TG_OP = ''INSERT'' OR (TG_OP = ''UPDATE'' AND NEW.client_id IS DISTINCT FROM OLD.client_id) THEN UPDATE partner_client SET consent_version = consent_version + 1 WHERE id = NEW.client_id\073 END IF\073 RETURN NULL\073 END'
;

CREATE TRIGGER "consent_bump_client_version_on_write" AFTER INSERT OR DELETE ON "consent"
  FOR EACH ROW EXECUTE FUNCTION "consent_bump_client_version"();

CREATE TRIGGER "consent_bump_client_version_on_change" AFTER UPDATE ON "consent"
  FOR EACH ROW WHEN (
    OLD.status IS DISTINCT FROM NEW.status OR OLD.scopes IS DISTINCT FROM NEW.scopes
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.country IS DISTINCT FROM NEW.country
    OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.client_id IS DISTINCT FROM NEW.client_id
    OR OLD.authorised_at IS DISTINCT FROM NEW.authorised_at
  ) EXECUTE FUNCTION "consent_bump_client_version"();
