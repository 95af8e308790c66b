-- Watches a plate (normalised), or changes its label.
INSERT INTO plate_watchlist (plate, label)
VALUES (%(plate)s, %(label)s)
ON CONFLICT (plate) DO UPDATE SET label = EXCLUDED.label, updated_at = now()
RETURNING plate, label, created_at, updated_at
