/** Keys the platform stack of each region publishes (read by the edge and observability stacks). */
export const PLATFORM_KEYS = {
  apiLoadBalancerHostname: 'platform/api-load-balancer-hostname',
  realtimeLoadBalancerHostname: 'platform/realtime-load-balancer-hostname',
  /** ARN of the internal api NLB: the edge stack's CloudFront VPC origin. */
  apiLoadBalancerArn: 'platform/api-load-balancer-arn',
  /** ARN of the internal realtime NLB: the edge stack's CloudFront VPC origin for WebSockets. */
  realtimeLoadBalancerArn: 'platform/realtime-load-balancer-arn',
  clusterName: 'platform/cluster-name',
} as const;
