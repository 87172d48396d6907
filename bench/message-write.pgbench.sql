-- One message send as the backend writes it: the message row, its idempotency key and its outbox row, one transaction.
\set r random(1, 2000000000)
BEGIN;
INSERT INTO connecthub.messages (id, conversation_id, sender_id, recipient_id, body, client_key, created_at)
  VALUES (gen_random_uuid(), md5(:r::text)::uuid, md5((:r + 1)::text)::uuid, md5((:r + 2)::text)::uuid,
          'a message body of typical length for a chat app, about seventy characters', :r::text, now());
INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id, created_at)
  VALUES (md5((:r + 1)::text)::uuid, :r::text || '-' || :client_id::text || '-' || random()::text, gen_random_uuid(), now())
  ON CONFLICT DO NOTHING;
INSERT INTO connecthub.outbox (topic, message_key, payload)
  VALUES ('messages', md5(:r::text), '{"type":"message.created","body":"a message body"}');
COMMIT;
