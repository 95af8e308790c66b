-- One pending delivery per webhook that wants this event (its type and camera, an empty list
-- meaning every one). A delivery that exists already is left alone: handling an event twice
-- sends it once.
INSERT INTO webhook_deliveries (webhook, event_id, position, event_type, body)
SELECT w.name, %(event_id)s::uuid, %(position)s::bigint, %(event_type)s::text, %(body)s::text
FROM webhooks w
WHERE (cardinality(w.event_types) = 0 OR %(event_type)s::text = ANY (w.event_types))
  AND (cardinality(w.camera_ids) = 0 OR %(camera_id)s::text = ANY (w.camera_ids))
ON CONFLICT (webhook, event_id) DO NOTHING
RETURNING webhook
