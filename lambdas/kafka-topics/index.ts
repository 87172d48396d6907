import type { KafkaAdminPort } from '../kafka-common/admin-port';
import { KafkajsAdmin } from '../kafka-common/kafkajs-admin';
import { parseTopicSpecs } from '../kafka-common/topic-spec';
import { reconcileTopics } from './reconcile';

/** The custom-resource event fields this handler reads (CloudFormation sends more). */
export interface TopicsResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: {
    /** Comma-separated bootstrap brokers (SASL/IAM, TLS). */
    readonly BootstrapBrokers: string;
    /** ARN of the MSK cluster; names the physical resource. */
    readonly ClusterArn: string;
    /** Desired topics (numbers arrive as strings). */
    readonly Topics: unknown;
  };
}

/** The reply to the custom-resource provider framework. */
export interface TopicsResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** Builds the admin client for one event; replaced in tests by an in-process implementation. */
export type AdminFactory = (bootstrapBrokers: string) => KafkaAdminPort;

/**
 * Creates the onEvent handler. Create and Update reconcile the desired topic list (create missing, grow partitions,
 * set changed config, refuse shrinks). Delete never deletes topics: they hold data, and removing this resource
 * (or its stack) must not drop messages; delete topics deliberately with Kafka tooling if that is really meant.
 */
export function createHandler(makeAdmin: AdminFactory) {
  return async (event: TopicsResourceEvent): Promise<TopicsResourceResponse> => {
    const props = event.ResourceProperties;
    const physicalResourceId = event.PhysicalResourceId ?? `kafka-topics:${props.ClusterArn}`;
    if (event.RequestType === 'Delete') {
      console.log(JSON.stringify({ msg: 'delete: topics are kept on purpose', physicalResourceId }));
      return { PhysicalResourceId: physicalResourceId };
    }
    const desired = parseTopicSpecs(props.Topics);
    const admin = makeAdmin(props.BootstrapBrokers);
    try {
      const plan = await reconcileTopics(admin, desired);
      const summary = {
        Created: plan.create.map((t) => t.name).join(','),
        Grown: plan.grow.map((g) => `${g.topic}:${g.from}->${g.to}`).join(','),
        Configured: plan.configure.map((c) => c.topic).join(','),
        Unchanged: plan.unchanged.join(','),
      };
      console.log(JSON.stringify({ msg: 'reconciled', requestType: event.RequestType, ...summary }));
      return { PhysicalResourceId: physicalResourceId, Data: summary };
    } finally {
      await admin.disconnect();
    }
  };
}

/** Lambda entry point. */
export const handler = createHandler(
  (bootstrapBrokers) =>
    new KafkajsAdmin({ bootstrapBrokers, region: process.env.AWS_REGION ?? '', clientId: 'connecthub-kafka-topics' }),
);
