-- Removes the derived rows of a range of days before they are written again (same transaction).
WITH counts AS (DELETE FROM daily_event_counts WHERE day BETWEEN %(first_day)s AND %(last_day)s),
     lines AS (DELETE FROM daily_line_counts WHERE day BETWEEN %(first_day)s AND %(last_day)s)
DELETE FROM daily_stats WHERE day BETWEEN %(first_day)s AND %(last_day)s
