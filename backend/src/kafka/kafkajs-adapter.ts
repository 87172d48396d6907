/**
 * The Kafka port on kafkajs, for Amazon MSK: TLS, and SASL/OAUTHBEARER with IAM tokens signed by
 * aws-msk-iam-sasl-signer-js (Pod Identity credentials through the default provider chain).
 * Deliberately thin: ordering, retries and dead-lettering semantics live in the port's contract.
 */
import { Kafka, KafkaConfig as KafkaJsConfig, logLevel } from 'kafkajs';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { dlqTopic } from '../contract';
import type { KafkaConfig } from '../config';
import type { Logger } from '../logger';
import type { Consumer, ConsumerOptions, KafkaPort, Publisher } from './port';

export class KafkaJsPort implements KafkaPort {
  private readonly kafka: Kafka;

  constructor(config: KafkaConfig, region: string | undefined, private readonly log: Logger) {
    const kc: KafkaJsConfig = {
      clientId: 'connecthub-backend',
      brokers: [...config.brokers],
      ssl: config.tls,
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      logLevel: logLevel.WARN,
      logCreator: () => ({ namespace, level, log: entry }) => {
        const { message, ...rest } = entry;
        this.log[level <= logLevel.ERROR ? 'error' : 'warn']({ kafka: namespace, ...rest }, message);
      },
    };
    if (config.auth === 'iam') {
      kc.sasl = {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region: region ?? '' })).token }),
      };
    }
    this.kafka = new Kafka(kc);
  }

  publisher(): Publisher {
    // Idempotent producer with one request in flight: retries cannot reorder or duplicate within a session.
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    return {
      connect: () => producer.connect(),
      disconnect: () => producer.disconnect(),
      publish: async (topic, messages) => {
        await producer.send({
          topic,
          acks: -1,
          messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ? { ...m.headers } : undefined })),
        });
      },
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    const maxAttempts = options.maxAttempts ?? 5;
    const consumer = this.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    const dlq = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const admin = this.kafka.admin();
    return {
      run: async (handler) => {
        await Promise.all([consumer.connect(), dlq.connect(), admin.connect()]);
        await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          eachMessage: async ({ topic, partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
            const incoming = { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers };
            for (let attempt = 1; ; attempt++) {
              try {
                await handler(incoming);
                return;
              } catch (err) {
                if (attempt >= maxAttempts) {
                  await dlq.send({
                    topic: dlqTopic(topic),
                    acks: -1,
                    messages: [{ key: message.key, value: message.value, headers: { ...headers, 'x-error': String((err as Error).message).slice(0, 500) } }],
                  });
                  return;
                }
                await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5_000)));
              }
            }
          },
        });
      },
      lag: async () => {
        const out: Record<string, number> = {};
        const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: [...options.topics] });
        for (const t of committed) {
          const latest = await admin.fetchTopicOffsets(t.topic);
          out[t.topic] = latest.reduce((sum, p) => {
            const c = t.partitions.find((x) => x.partition === p.partition);
            const done = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(p.low);
            return sum + Math.max(0, Number(p.high) - done);
          }, 0);
        }
        return out;
      },
      stop: async () => {
        await consumer.disconnect();
        await Promise.all([dlq.disconnect(), admin.disconnect()]);
      },
    };
  }
}
