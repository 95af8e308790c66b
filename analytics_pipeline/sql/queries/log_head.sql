-- The newest committed position of the log (0 when empty): the relay lag's reference.
SELECT coalesce(max(id), 0) AS head FROM events
