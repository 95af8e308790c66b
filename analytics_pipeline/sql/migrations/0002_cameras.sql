-- Cameras registered through the CLI or the API; analyzers pick up changes without a restart.
CREATE TABLE cameras (
    id         varchar(100) PRIMARY KEY
               CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    name       text        NOT NULL,
    source_url text        NOT NULL CHECK (source_url <> ''),
    enabled    boolean     NOT NULL DEFAULT true,
    settings   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION cameras_notify_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cameras_changed', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER cameras_changed
    AFTER INSERT OR UPDATE OR DELETE ON cameras
    FOR EACH STATEMENT EXECUTE FUNCTION cameras_notify_changed();
