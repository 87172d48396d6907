/** Valid chart props shared by the cdk8s and EKS tests (literal values, as a dev environment would pass). */
import type { BackendChartProps } from '../../cdk8s/backend-chart';

export const ASSET_HASH = 'a'.repeat(64);

export function chartProps(overrides: Partial<BackendChartProps> = {}): BackendChartProps {
  const sizing = {
    requests: { cpuMillicores: 500, memoryMebibytes: 512 },
    limits: { cpuMillicores: 1000, memoryMebibytes: 1024 },
  };
  return {
    environment: 'dev',
    region: 'us-east-1',
    homeRegion: 'us',
    image: { repository: '111111111111.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets', tag: ASSET_HASH },
    vpcCidr: '10.10.0.0/16',
    database: {
      writerHost: 'writer.proxy-abc.us-east-1.rds.amazonaws.com',
      readerHost: 'reader.endpoint.proxy-abc.us-east-1.rds.amazonaws.com',
      name: 'connecthub',
      user: 'connecthub_app',
      auth: 'iam',
    },
    redis: {
      endpoint: 'clustercfg.connecthub.abc.use1.cache.amazonaws.com:6379',
      cluster: true,
      username: 'connecthub',
      passwordSecret: { secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:redis-auth-AbCdEf', jsonKey: 'password' },
    },
    kafka: { brokers: 'b-1.msk.abc.kafka.us-east-1.amazonaws.com:9098,b-2.msk.abc.kafka.us-east-1.amazonaws.com:9098' },
    jwt: { issuer: 'https://auth.connecthub.example', audience: 'connecthub-api', jwksUrl: 'https://auth.connecthub.example/.well-known/jwks.json' },
    workloads: { api: sizing, realtime: sizing, worker: { ...sizing, maxReplicas: 24 } },
    autoscaling: {
      prometheusQueryEndpoint: 'https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-12345678-abcd-1234-abcd-123456789012',
      awsRegion: 'us-east-1',
    },
    maxWsConnectionsPerPod: 5000,
    rateLimitPerMinute: 600,
    ...overrides,
  };
}
