-- Releases this owner's leases (clean exit, a camera stopped, the fair share shrank): free
-- at once for an analyzer below its fair share; expires_at records when, so that spare
-- capacity (lease_claim.sql's min_free_seconds) waits a lease period before taking it.
UPDATE camera_leases l
SET owner = NULL, expires_at = now()
FROM unnest(%(camera_ids)s::text[], %(tokens)s::bigint[]) AS h (camera_id, token)
WHERE l.camera_id = h.camera_id AND l.token = h.token AND l.owner = %(owner)s
RETURNING l.camera_id
