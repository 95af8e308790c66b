-- Webhooks: registered receivers, and the outbox of deliveries the `deliver` workers send.
-- A delivery row is made when the webhook consumer group handles a matching event (one per
-- webhook and event: handling an event twice makes no second row), then sent, retried with
-- exponential back-off, and left as a dead letter (status 'dead') after the last attempt.
CREATE TABLE webhooks (
    name        varchar(100) PRIMARY KEY
                CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    url         text        NOT NULL CHECK (url ~* '^https?://.' AND length(url) <= 2048),
    event_types text[]      NOT NULL DEFAULT '{}',  -- empty: every type
    camera_ids  text[]      NOT NULL DEFAULT '{}',  -- empty: every camera
    secret      text        NOT NULL CHECK (secret <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook         varchar(100) NOT NULL REFERENCES webhooks (name) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    position        bigint      NOT NULL,
    event_type      varchar(50) NOT NULL,
    body            text        NOT NULL,  -- the exact JSON sent (and signed) at every attempt
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (webhook, event_id)
);

CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX idx_webhook_deliveries_dead ON webhook_deliveries (webhook, id)
    WHERE status = 'dead';
CREATE INDEX idx_webhook_deliveries_finished ON webhook_deliveries (finished_at)
    WHERE status = 'delivered';
