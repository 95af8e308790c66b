-- Who holds each camera now (by the database's clock): owner and lease expiry, NULL when
-- the camera is free (never leased, released or expired).
SELECT c.id AS camera_id,
       CASE WHEN l.expires_at > now() THEN l.owner END AS owner,
       CASE WHEN l.expires_at > now() AND l.owner IS NOT NULL THEN l.expires_at END
           AS lease_expires_at
FROM cameras c
LEFT JOIN camera_leases l ON l.camera_id = c.id
WHERE (%(ids)s::text[] IS NULL OR c.id = ANY(%(ids)s::text[]))
ORDER BY c.id
