-- Stops watching a plate; returns it when it was watched.
DELETE FROM plate_watchlist WHERE plate = %(plate)s RETURNING plate
