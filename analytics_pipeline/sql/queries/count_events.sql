-- How many visible events match a filter: the matching events (an index-only scan for a camera
-- and time range), less those of them deleted through the API (probed from deleted_events),
-- rather than one deleted_events probe per matching row.
SELECT (SELECT count(*)
        FROM matching_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                             %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s))
     - (SELECT count(*)
        FROM deleted_events d
        WHERE EXISTS (SELECT 1
                      FROM matching_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                                           %(object_class)s, %(plate)s, %(min_confidence)s,
                                           %(track_id)s) m
                      WHERE m.id = d.id)) AS count
