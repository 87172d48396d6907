import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { GroupLag } from './lag';

/** CloudWatch namespace of the streaming metrics. */
export const METRIC_NAMESPACE = 'ConnectHub/Streaming';
/** Records pending for a consumer group: dims ConsumerGroup+Topic, and ConsumerGroup alone for the group total. */
export const CONSUMER_LAG_METRIC = 'ConsumerLag';
/** PutMetricData accepts at most 1000 metric data points per request. */
export const MAX_DATUMS_PER_REQUEST = 1000;

/** One datum per group and topic, plus one per group (dimension ConsumerGroup only) carrying the group's total. */
export function toMetricData(groups: readonly GroupLag[], timestamp: Date): MetricDatum[] {
  const data: MetricDatum[] = [];
  for (const g of groups) {
    for (const t of g.topics) {
      data.push({
        MetricName: CONSUMER_LAG_METRIC,
        Dimensions: [
          { Name: 'ConsumerGroup', Value: g.groupId },
          { Name: 'Topic', Value: t.topic },
        ],
        Timestamp: timestamp,
        Unit: 'Count',
        Value: t.lag,
      });
    }
    data.push({
      MetricName: CONSUMER_LAG_METRIC,
      Dimensions: [{ Name: 'ConsumerGroup', Value: g.groupId }],
      Timestamp: timestamp,
      Unit: 'Count',
      Value: g.total,
    });
  }
  return data;
}

/** Sends the data in as few PutMetricData requests as the per-request limit allows; returns the request count. */
export async function publishMetricData(
  client: CloudWatchClient,
  data: readonly MetricDatum[],
  namespace: string = METRIC_NAMESPACE,
): Promise<number> {
  let requests = 0;
  for (let i = 0; i < data.length; i += MAX_DATUMS_PER_REQUEST) {
    await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + MAX_DATUMS_PER_REQUEST) }));
    requests += 1;
  }
  return requests;
}
