-- Claims up to %(limit)s of the candidate cameras (enabled ones only) that are free: never
-- leased, released, expired by the database's clock, or held by this very owner (a process
-- restarted with the same host:pid). With %(min_free_seconds)s > 0 only cameras free for
-- that long (spare capacity beyond the fair share). With %(not_claimed_since)s, cameras
-- claimed since then are skipped (--until-end: each file is analysed once).
-- The upsert re-checks the row it locks, so of two analyzers racing for a camera one wins;
-- every claim raises the fencing token.
INSERT INTO camera_leases AS l (camera_id, owner, token, expires_at, claimed_at)
SELECT c.id, %(owner)s, 1, now() + make_interval(secs => %(seconds)s), now()
FROM cameras c
LEFT JOIN camera_leases f ON f.camera_id = c.id
WHERE c.id = ANY(%(camera_ids)s::text[])
  AND c.enabled
  AND (f.camera_id IS NULL
       OR f.owner IS NULL
       OR f.owner = %(owner)s
       OR f.expires_at < now())
  AND (%(min_free_seconds)s::float8 <= 0
       OR coalesce(f.expires_at, c.updated_at)
          < now() - make_interval(secs => %(min_free_seconds)s::float8))
  AND (%(not_claimed_since)s::timestamptz IS NULL
       OR f.claimed_at IS NULL
       OR f.claimed_at < %(not_claimed_since)s::timestamptz)
ORDER BY md5(c.id || %(owner)s)
LIMIT %(limit)s
ON CONFLICT (camera_id) DO UPDATE
SET owner = EXCLUDED.owner, token = l.token + 1, expires_at = EXCLUDED.expires_at,
    claimed_at = EXCLUDED.claimed_at
WHERE l.owner IS NULL OR l.owner = EXCLUDED.owner OR l.expires_at < now()
RETURNING camera_id, token, expires_at
