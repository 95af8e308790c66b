-- Renews this owner's leases, each only while it still carries the token this owner got
-- (a lease that expired but that nobody claimed since is renewed: nobody emitted for it).
-- Returns the leases still held.
UPDATE camera_leases l
SET expires_at = now() + make_interval(secs => %(seconds)s)
FROM unnest(%(camera_ids)s::text[], %(tokens)s::bigint[]) AS h (camera_id, token)
WHERE l.camera_id = h.camera_id AND l.token = h.token AND l.owner = %(owner)s
RETURNING l.camera_id, l.token, l.expires_at
