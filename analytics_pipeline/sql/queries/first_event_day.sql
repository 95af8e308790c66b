SELECT (min("timestamp") AT TIME ZONE 'UTC')::date AS day FROM events
