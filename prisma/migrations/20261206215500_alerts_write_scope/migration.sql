-- alerts.write (issue 21, item 5): acknowledging and resolving an alert now needs a write scope of
-- its own. A client that could ask for alerts.read may ask for alerts.write too. Nothing is
-- granted by this: each person still grants it, or not, in a consent of their own.
UPDATE "partner_client"
SET "allowed_scopes" = array_append("allowed_scopes", 'alerts.write')
WHERE 'alerts.read' = ANY("allowed_scopes") AND NOT ('alerts.write' = ANY("allowed_scopes"));
