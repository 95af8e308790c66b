-- Hides an event; returns nothing when it was already deleted.
INSERT INTO deleted_events (id) VALUES (%(id)s) ON CONFLICT (id) DO NOTHING RETURNING id
