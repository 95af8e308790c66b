INSERT INTO daily_stats (day, total_events, events_by_hour, object_classes, distinct_plates,
                         top_plates, mean_dwell_seconds)
VALUES (%(day)s, %(total_events)s, %(events_by_hour)s, %(object_classes)s, %(distinct_plates)s,
        %(top_plates)s, %(mean_dwell_seconds)s)
