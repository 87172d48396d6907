/**
 * An in-process implementation of the Kafka port with the semantics the worker relies on: topics
 * with key-hashed partitions, per-partition order, consumer groups with committed offsets, retries
 * and dead-letter topics. Tests can make the next publishes fail to exercise the relay's retry path.
 */
import { createHash } from 'node:crypto';
import { dlqTopic } from '../contract';
import type { Consumer, ConsumerOptions, IncomingMessage, KafkaPort, MessageHandler, OutgoingMessage, Publisher } from './port';

interface Record_ {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export class InProcessKafka implements KafkaPort {
  private readonly topics = new Map<string, Record_[][]>();
  private readonly committed = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  /** Number of upcoming publish calls that will fail (simulating a broker outage). */
  failNextPublishes = 0;
  /** Every publish call that succeeded, for assertions. */
  publishCalls = 0;

  constructor(readonly partitions = 3) {}

  private partitionsOf(topic: string): Record_[][] {
    let p = this.topics.get(topic);
    if (!p) {
      p = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, p);
    }
    return p;
  }

  partitionFor(key: string | null): number {
    if (key === null) return 0;
    return createHash('md5').update(key).digest().readUInt32BE(0) % this.partitions;
  }

  /** All records of a topic, partition by partition (for assertions). */
  records(topic: string): Array<{ partition: number; offset: number; key: string | null; value: string; headers: Readonly<Record<string, string>> }> {
    return this.partitionsOf(topic).flatMap((recs, partition) => recs.map((r, offset) => ({ partition, offset, key: r.key, value: r.value, headers: r.headers })));
  }

  append(topic: string, messages: readonly OutgoingMessage[]): void {
    const parts = this.partitionsOf(topic);
    for (const m of messages) parts[this.partitionFor(m.key)].push({ key: m.key, value: m.value, headers: { ...(m.headers ?? {}) } });
    for (const w of [...this.waiters]) w();
  }

  publisher(): Publisher {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      publish: async (topic, messages) => {
        await Promise.resolve();
        if (this.failNextPublishes > 0) {
          this.failNextPublishes -= 1;
          throw new Error('in-process kafka: simulated broker failure');
        }
        this.publishCalls += 1;
        this.append(topic, messages);
      },
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    const maxAttempts = options.maxAttempts ?? 5;
    let running = false;
    let loop: Promise<void> | undefined;
    let wake: (() => void) | undefined;
    const offsetKey = (topic: string, partition: number) => `${options.groupId}|${topic}|${partition}`;

    const drainOnce = async (handler: MessageHandler): Promise<boolean> => {
      let progressed = false;
      for (const topic of options.topics) {
        const parts = this.partitionsOf(topic);
        for (let partition = 0; partition < parts.length; partition++) {
          const k = offsetKey(topic, partition);
          let next = this.committed.get(k) ?? 0;
          while (running && next < parts[partition].length) {
            const rec = parts[partition][next];
            const msg: IncomingMessage = { topic, partition, offset: String(next), key: rec.key, value: rec.value, headers: rec.headers };
            let attempt = 0;
            for (;;) {
              attempt += 1;
              try {
                await handler(msg);
                break;
              } catch (err) {
                if (attempt >= maxAttempts) {
                  this.append(dlqTopic(topic), [{ key: rec.key, value: rec.value, headers: { ...rec.headers, 'x-error': String((err as Error).message).slice(0, 500) } }]);
                  break;
                }
                await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** attempt, 200)));
              }
            }
            next += 1;
            this.committed.set(k, next);
            progressed = true;
          }
        }
      }
      return progressed;
    };

    return {
      run: async (handler) => {
        running = true;
        loop = (async () => {
          while (running) {
            const progressed = await drainOnce(handler);
            if (!progressed && running) {
              await new Promise<void>((resolve) => {
                const w = () => {
                  this.waiters.delete(w);
                  clearTimeout(t);
                  resolve();
                };
                const t = setTimeout(w, 50);
                wake = w;
                this.waiters.add(w);
              });
            }
          }
        })();
      },
      lag: async () => {
        const out: Record<string, number> = {};
        for (const topic of options.topics) {
          out[topic] = this.partitionsOf(topic).reduce((sum, recs, p) => sum + recs.length - (this.committed.get(offsetKey(topic, p)) ?? 0), 0);
        }
        return out;
      },
      stop: async () => {
        running = false;
        wake?.();
        await loop;
      },
    };
  }
}
