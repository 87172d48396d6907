import { stacksOf, SynthesizedStack, TEST_ENVIRONMENTS } from '../support/synthesized-app';

/**
 * The backend pods' Pod Identity roles as the real platform stacks grant them (every environment and region of the
 * test assembly), against what the backend code does (backend/src/service.ts, config.ts, kafka/kafkajs-adapter.ts).
 */
const WORKLOADS = ['api', 'realtime', 'worker'] as const;
type Workload = (typeof WORKLOADS)[number];

interface Region {
  env: string;
  region: string;
  platform: SynthesizedStack;
  cache: SynthesizedStack;
}

const regions: Region[] = TEST_ENVIRONMENTS.flatMap((env) => {
  const stacks = stacksOf(env);
  return stacks
    .filter((s) => s.stackName.startsWith(`connecthub-${env}-platform-`))
    .map((platform) => ({ env, region: platform.region, platform, cache: stacks.find((s) => s.stackName === `connecthub-${env}-cache-streaming-${platform.region}`)! }));
});

/** The template parameter (SSM value) a platform stack reads for a shared key. */
function parameterRef(r: Region, key: string): { Ref: string } {
  const name = `/connecthub/${r.env}/${r.region}/${key}`;
  const entry = Object.entries<any>(r.platform.template.Parameters ?? {}).find(([, p]) => p.Default === name);
  if (!entry) throw new Error(`${r.platform.stackName} reads no parameter ${name}`);
  return { Ref: entry[0] };
}

/** Statements of the Pod Identity role of one workload. */
function statementsOf(r: Region, w: Workload): any[] {
  const resources = r.platform.template.Resources;
  const roles = Object.entries(resources).filter(([, x]) => x.Type === 'AWS::IAM::Role' && String(x.Properties?.Description ?? '').startsWith(`Pod Identity: ConnectHub ${w} pods`));
  expect(roles).toHaveLength(1);
  const roleId = roles[0][0];
  return Object.values(resources)
    .filter((x) => x.Type === 'AWS::IAM::Policy' && x.Properties.Roles.some((ref: any) => ref.Ref === roleId))
    .flatMap((x) => x.Properties.PolicyDocument.Statement);
}

const withAction = (statements: any[], action: string) => statements.filter((s) => [].concat(s.Action).includes(action as never));
const actionsOf = (statements: any[]) => statements.flatMap((s) => [].concat(s.Action) as string[]);

test('the assembly has a platform and a cache stack for every region', () => {
  expect(regions.map((r) => `${r.env}/${r.region}`).sort()).toEqual(
    ['dev/us-east-1', 'pr-7/us-east-1', 'prod/ap-southeast-1', 'prod/eu-west-1', 'prod/us-east-1', 'staging/eu-west-1', 'staging/us-east-1'].sort(),
  );
  for (const r of regions) expect(r.cache).toBeDefined();
});

describe.each(regions.map((r) => [`${r.env} ${r.region}`, r] as const))('%s', (_name, r) => {
  test('the cache stack publishes the key of the Redis secret', () => {
    const resources = r.cache.template.Resources;
    const secret = Object.values(resources).find((x) => x.Type === 'AWS::SecretsManager::Secret' && String(x.Properties.Description).includes('RBAC user'))!;
    const published = Object.values(resources).find((x) => x.Type === 'AWS::SSM::Parameter' && x.Properties.Name === `/connecthub/${r.env}/${r.region}/cache/secret-key-arn`)!;
    expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CacheKey/), 'Arn'] });
    expect(published.Properties.Value).toEqual(secret.Properties.KmsKeyId);
  });

  test('every role that mounts the Redis secret reads it and decrypts its key, through Secrets Manager only', () => {
    for (const w of WORKLOADS) {
      const statements = statementsOf(r, w);
      expect(withAction(statements, 'secretsmanager:GetSecretValue').map((s) => s.Resource)).toEqual([parameterRef(r, 'cache/secret-arn')]);
      expect(withAction(statements, 'kms:Decrypt').map((s) => ({ w, Resource: s.Resource, Condition: s.Condition }))).toEqual([
        { w, Resource: parameterRef(r, 'cache/secret-key-arn'), Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${r.region}.amazonaws.com` } } },
      ]);
    }
  });

  test('only api and worker may connect to the database; realtime has none', () => {
    for (const w of WORKLOADS) {
      expect({ w, connects: withAction(statementsOf(r, w), 'rds-db:connect').length > 0 }).toEqual({ w, connects: w !== 'realtime' });
    }
  });

  test('no role publishes CloudWatch metrics (the backend exports over OTLP to the collector)', () => {
    for (const w of WORKLOADS) expect({ w, actions: actionsOf(statementsOf(r, w)).filter((a) => a.startsWith('cloudwatch:')) }).toEqual({ w, actions: [] });
  });

  test('the worker reads the four topics and writes, idempotently, their dead-letter topics, and the topics themselves only where it relays (the primary region)', () => {
    const statements = statementsOf(r, 'worker');
    // The identity stack lives in the environment's primary region.
    const primary = r.region === stacksOf(r.env).find((s) => s.stackName.startsWith(`connecthub-${r.env}-identity-`))!.region;
    const read = withAction(statements, 'kafka-cluster:ReadData');
    expect(read).toHaveLength(1);
    const readTopics = [].concat(read[0].Resource).map((x) => JSON.stringify(x));
    expect(readTopics).toHaveLength(4);
    expect(readTopics.filter((t) => t.includes('.dlq'))).toEqual([]);
    const write = withAction(statements, 'kafka-cluster:WriteData');
    const written = [].concat(write[0].Resource).map((x) => JSON.stringify(x));
    expect(written).toHaveLength(primary ? 8 : 4);
    expect(written.filter((t) => t.includes('.dlq'))).toHaveLength(4);
    expect(withAction(statements, 'kafka-cluster:WriteDataIdempotently').map((s) => s.Resource)).toEqual([parameterRef(r, 'streaming/cluster-arn')]);
    for (const w of ['api', 'realtime'] as const) expect({ w, kafka: actionsOf(statementsOf(r, w)).filter((a) => a.startsWith('kafka-cluster:')) }).toEqual({ w, kafka: [] });
  });

  test('KEDA describes only the topics the worker consumes', () => {
    const resources = r.platform.template.Resources;
    const role = Object.entries(resources).find(([, x]) => x.Type === 'AWS::IAM::Role' && String(x.Properties?.Description ?? '').startsWith('Pod Identity: KEDA operator'))![0];
    const statements = Object.values(resources)
      .filter((x) => x.Type === 'AWS::IAM::Policy' && x.Properties.Roles.some((ref: any) => ref.Ref === role))
      .flatMap((x) => x.Properties.PolicyDocument.Statement);
    const topics = [].concat(withAction(statements, 'kafka-cluster:DescribeTopic')[0].Resource).map((x) => JSON.stringify(x));
    expect(topics).toHaveLength(4);
    expect(topics.filter((t) => t.includes('.dlq'))).toEqual([]);
  });

  test('kube-state-metrics is installed for the collector\'s HPA metrics', () => {
    const charts = Object.values(r.platform.template.Resources).filter((x) => x.Type === 'Custom::AWSCDK-EKS-HelmChart').map((x) => x.Properties);
    expect(charts.find((c) => c.Chart === 'kube-state-metrics')).toMatchObject({ Namespace: 'kube-system', Release: 'kube-state-metrics' });
  });
});
