/**
 * The small port between the worker and Kafka. The worker's logic (outbox relay, activity consumer)
 * depends only on these interfaces; `kafkajs-adapter.ts` implements them for MSK, `in-process.ts`
 * for tests and local runs.
 */
import type { SpanContext } from '@opentelemetry/api';

export interface OutgoingMessage {
  /** Partitioning key: messages with the same key keep their order. */
  readonly key: string | null;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The trace of the write that produced the message (the outbox row's validated `trace_context`). The tracing
   * wrapper continues it in the message's span and headers; adapters never send it.
   */
  readonly traceContext?: SpanContext;
}

export interface Publisher {
  /**
   * Publishes `messages` to `topic` in order and resolves only when the brokers acknowledged all of
   * them (acks=all). A rejection means none or some were written: the caller retries the whole batch
   * (at-least-once).
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Handles one message; a rejection means "retry", after the retry budget the message goes to `<topic>.dlq`. */
export type MessageHandler = (message: IncomingMessage) => Promise<void>;

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Attempts per message before it is dead-lettered. @default 5 */
  readonly maxAttempts?: number;
}

export interface Consumer {
  /** Starts consuming; offsets are committed only after the handler succeeded (or dead-lettered). */
  run(handler: MessageHandler): Promise<void>;
  /** Messages published but not yet committed by this group, per topic. */
  lag(): Promise<Record<string, number>>;
  /** Finishes the message in hand, commits, and leaves the group. */
  stop(): Promise<void>;
}

export interface KafkaPort {
  publisher(): Publisher;
  consumer(options: ConsumerOptions): Consumer;
}
