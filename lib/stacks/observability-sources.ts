import { redisNodeClusterIds } from '../../constructs/observability/connecthub-monitoring';
import { CacheSize } from '../capacity/capacity-model';

/** The Redis section of the monitoring props: node ids follow ElastiCache's `<group>-<shard>-<node>` naming. */
export function connectHubMonitoringRedis(replicationGroupId: string, cache: CacheSize) {
  return { replicationGroupId, nodeClusterIds: redisNodeClusterIds(replicationGroupId, cache.shards, cache.replicasPerShard, true) };
}
