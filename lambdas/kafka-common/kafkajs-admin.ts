import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, ConfigResourceTypes, ConfigSource, logLevel, type Admin } from 'kafkajs';
import type {
  KafkaAdminPort,
  NewTopic,
  PartitionOffsets,
  TopicCommittedOffsets,
  TopicDescription,
} from './admin-port';

/** How to reach the cluster. */
export interface KafkajsAdminOptions {
  /** Comma-separated `host:port` list, e.g. MSK's `BootstrapBrokerStringSaslIam` (port 9098). */
  readonly bootstrapBrokers: string;
  /** Region the cluster runs in; signs the MSK IAM token. */
  readonly region: string;
  /** Kafka client id, shown in broker logs. */
  readonly clientId: string;
  /** Per-request timeout in milliseconds. @default 25000 */
  readonly requestTimeoutMs?: number;
}

/**
 * Thin kafkajs adapter for {@link KafkaAdminPort}: TLS plus SASL/OAUTHBEARER carrying an MSK IAM token signed with
 * the Lambda's role (aws-msk-iam-sasl-signer-js). It only translates calls; every decision lives in code tested
 * against the in-process port. Not exercised against a real broker in this repository (none can run here).
 */
export class KafkajsAdmin implements KafkaAdminPort {
  private readonly admin: Admin;
  private connecting?: Promise<void>;

  constructor(options: KafkajsAdminOptions) {
    const brokers = options.bootstrapBrokers.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
    if (brokers.length === 0) throw new Error(`bootstrapBrokers is ${JSON.stringify(options.bootstrapBrokers)}; allowed: a comma-separated host:port list`);
    const region = options.region;
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers,
      ssl: true,
      sasl: {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
      },
      requestTimeout: options.requestTimeoutMs ?? 25_000,
      connectionTimeout: 10_000,
      logLevel: logLevel.WARN,
      retry: { retries: 5 },
    });
    this.admin = kafka.admin();
  }

  private async ready(): Promise<Admin> {
    this.connecting ??= this.admin.connect();
    await this.connecting;
    return this.admin;
  }

  async listTopics(): Promise<TopicDescription[]> {
    const admin = await this.ready();
    const names = (await admin.listTopics()).filter((n) => !n.startsWith('__')).sort();
    if (names.length === 0) return [];
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    const overrides = new Map<string, Record<string, string>>();
    for (const resource of configs.resources) {
      const entries: Record<string, string> = {};
      for (const e of resource.configEntries) {
        if (e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive) entries[e.configName] = e.configValue;
      }
      overrides.set(resource.resourceName, entries);
    }
    return topics.map((t) => {
      const p0 = t.partitions.find((p) => p.partitionId === 0) ?? t.partitions[0];
      return { name: t.name, partitions: t.partitions.length, replicationFactor: p0?.replicas.length ?? 0, config: overrides.get(t.name) ?? {} };
    });
  }

  async createTopics(topics: readonly NewTopic[]): Promise<void> {
    const admin = await this.ready();
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor ?? -1,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async createPartitions(updates: readonly { readonly topic: string; readonly count: number }[]): Promise<void> {
    const admin = await this.ready();
    await admin.createPartitions({ topicPartitions: updates.map((u) => ({ topic: u.topic, count: u.count })) });
  }

  async alterTopicConfig(topic: string, entries: Readonly<Record<string, string>>): Promise<void> {
    const admin = await this.ready();
    // kafkajs only speaks the non-incremental AlterConfigs API, which resets every override not sent. Read the
    // current overrides and send them merged with the new entries, so keys we do not manage survive.
    const current = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const merged: Record<string, string> = {};
    for (const e of current.resources[0]?.configEntries ?? []) {
      if (e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive) merged[e.configName] = e.configValue;
    }
    Object.assign(merged, entries);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })) }],
    });
  }

  async listConsumerGroups(): Promise<string[]> {
    const admin = await this.ready();
    return (await admin.listGroups()).groups.map((g) => g.groupId).sort();
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.ready();
    return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async fetchCommittedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicCommittedOffsets[]> {
    const admin = await this.ready();
    const result = await admin.fetchOffsets({ groupId, ...(topics ? { topics: [...topics] } : {}) });
    return result.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) }));
  }

  async disconnect(): Promise<void> {
    if (this.connecting) await this.admin.disconnect();
    this.connecting = undefined;
  }
}
