-- Removes one day's derived rows before they are written again (same transaction).
WITH counts AS (DELETE FROM daily_event_counts WHERE day = %(day)s)
DELETE FROM daily_stats WHERE day = %(day)s
