-- The plate watchlist: every anpr event whose plate matches a watched plate (exactly or
-- within one OCR confusion, see analytics_pipeline/watchlist.py) appends a plate_match event.
CREATE TABLE plate_watchlist (
    plate      varchar(16) PRIMARY KEY CHECK (plate ~ '^[A-Z0-9]{1,16}$'),
    label      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
