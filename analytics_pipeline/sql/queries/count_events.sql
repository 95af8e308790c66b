SELECT count(*)
FROM visible_events(%(camera_ids)s, %(event_types)s, %(start)s, %(end)s,
                    %(object_class)s, %(plate)s, %(min_confidence)s, %(track_id)s)
