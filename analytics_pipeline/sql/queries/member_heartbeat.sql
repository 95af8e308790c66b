-- This analyzer is alive (until %(seconds)s from now, by the database's clock). Returns how
-- many analyzers are alive, how many enabled cameras there are among the candidates, and the
-- room the other live analyzers have below their fair share (what this one may give back).
WITH beat AS (
    INSERT INTO analyzer_members (owner, capacity, expires_at)
    VALUES (%(owner)s, %(capacity)s, now() + make_interval(secs => %(seconds)s))
    ON CONFLICT (owner) DO UPDATE
    SET capacity = EXCLUDED.capacity, expires_at = EXCLUDED.expires_at
    RETURNING owner
),
others AS (
    SELECT m.owner, m.capacity,
           (SELECT count(*) FROM camera_leases l
            WHERE l.owner = m.owner AND l.expires_at > now()) AS held
    FROM analyzer_members m
    WHERE m.expires_at > now() AND m.owner <> %(owner)s
),
totals AS (
    SELECT 1 + (SELECT count(*) FROM others) AS members,
           (SELECT count(*) FROM cameras c
            WHERE c.enabled AND c.id = ANY(%(camera_ids)s::text[])) AS cameras
)
SELECT t.members,
       t.cameras,
       (SELECT coalesce(sum(greatest(0,
                   least(o.capacity, ceil(t.cameras::numeric / t.members)) - o.held)), 0)
        FROM others o) AS room,
       (SELECT count(*) FROM beat) AS beat
FROM totals t
