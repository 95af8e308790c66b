-- Every watched plate, in order.
SELECT plate, label, created_at, updated_at FROM plate_watchlist ORDER BY plate
