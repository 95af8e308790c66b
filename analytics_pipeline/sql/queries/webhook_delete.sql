-- Removes a webhook and its deliveries; returns its name when it existed.
DELETE FROM webhooks WHERE name = %(name)s RETURNING name
