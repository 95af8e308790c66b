-- deleted_events rows whose event is gone (left by a day dropped before they left with it).
DELETE FROM deleted_events d
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.id)
