/** Keys the platform stack of each region publishes (read by the edge and observability stacks). */
export const PLATFORM_KEYS = {
  apiLoadBalancerHostname: 'platform/api-load-balancer-hostname',
  realtimeLoadBalancerHostname: 'platform/realtime-load-balancer-hostname',
  clusterName: 'platform/cluster-name',
} as const;
