-- query_events.sql (newest first) and count_events.sql in one statement, one round trip: the
-- page's rows each carry the total; a page past the end is one row of NULLs with the total.
WITH total AS (
    SELECT (SELECT count(*)
            FROM matching_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                                 %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s))
         - (SELECT count(*)
            FROM deleted_events d
            WHERE EXISTS (SELECT 1
                          FROM matching_events(%(camera_ids)s, %(event_types)s, %(start)s,
                                               %(end)s, %(object_class)s, %(plate)s,
                                               %(min_confidence)s, %(track_id)s) m
                          WHERE m.id = d.id)) AS total
), page AS (
    SELECT id, event_id, event_type, camera_id, "timestamp", frame_number, snapshot_path,
           event_data, created_at, txid::text::bigint AS txid
    FROM visible_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                        %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
    ORDER BY id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT page.*, total.total
FROM total LEFT JOIN page ON true
ORDER BY page.id DESC NULLS LAST
