import { ConfigValidationError } from '../../lib/config/config-error';
import { EnvironmentConfig } from '../../lib/config/environment-config';
import { LONG_LIVED_ENVIRONMENTS, previewEnvironment } from '../../lib/config/environments';
import { resolveEnvironments, selectEnvironmentNames } from '../../lib/config/resolve-environments';
import { validateEnvironment } from '../../lib/config/validate-config';

const context = (values: Record<string, unknown>) => (key: string) => values[key];
const prod = LONG_LIVED_ENVIRONMENTS.prod;

function problemsOf(env: EnvironmentConfig) {
  return validateEnvironment(env).map((p) => `${p.field} | ${JSON.stringify(p.value)} | ${p.allowed}`);
}

function thrownBy(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('the default environments', () => {
  test.each(Object.keys(LONG_LIVED_ENVIRONMENTS))('%s is valid', (name) => {
    expect(validateEnvironment(LONG_LIVED_ENVIRONMENTS[name])).toEqual([]);
  });

  test('regions and tiers follow the design brief', () => {
    const regionsOf = (name: string) => LONG_LIVED_ENVIRONMENTS[name].regions.map((r) => r.region);
    expect(regionsOf('dev')).toEqual(['us-east-1']);
    expect(regionsOf('staging')).toEqual(['us-east-1', 'eu-west-1']);
    expect(regionsOf('prod')).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    expect([LONG_LIVED_ENVIRONMENTS.dev.tier, LONG_LIVED_ENVIRONMENTS.staging.tier, prod.tier]).toEqual(['dev', 'launch', 'six-month']);
    expect(prod.retainData && prod.terminationProtection).toBe(true);
    expect(LONG_LIVED_ENVIRONMENTS.dev.retainData).toBe(false);
    expect(prod.regions.every((r) => r.natGateways === r.availabilityZones.length && r.availabilityZones.length === 3)).toBe(true);
  });
});

describe('environment selection', () => {
  test('no env selects dev, staging and prod', () => {
    expect(resolveEnvironments(context({})).map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
  });

  test('a comma-separated list, duplicates ignored', () => {
    expect(resolveEnvironments(context({ env: 'prod, dev,prod' })).map((e) => e.name)).toEqual(['prod', 'dev']);
  });

  test('pr-N is a destroyable dev-sized environment', () => {
    const [pr] = resolveEnvironments(context({ env: 'pr-7' }));
    expect(pr).toMatchObject({ name: 'pr-7', kind: 'preview', tier: 'dev', retainData: false, terminationProtection: false });
  });

  test('an unknown environment names the known ones', () => {
    const error = thrownBy(() => resolveEnvironments(context({ env: 'qa' })));
    expect(error.problems).toEqual([
      { field: '-c env', value: 'qa', allowed: 'a known environment: dev, staging, prod, pr-<number>' },
    ]);
    expect(error.message).toContain('-c env = "qa": a known environment: dev, staging, prod, pr-<number>');
  });

  test.each(['pr-abc', 'pr-007', 'Prod', 'dev!', 'pr-1234567'])('malformed name %s is refused', (name) => {
    const { problems } = selectEnvironmentNames(name);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: '-c env', value: name });
    expect(problems[0].allowed).toMatch(/well-formed name/);
  });

  test('every problem of every environment is reported at once', () => {
    const error = thrownBy(() => resolveEnvironments(context({ env: 'qa,dev', 'dev:tier': 'huge', 'dev:account': '12' })));
    expect(error.problems.map((p) => p.field)).toEqual(['-c env', 'dev.account', 'dev.tier']);
    expect(error.message.split('\n')[0]).toBe('Invalid ConnectHub configuration (3 problems):');
  });

  test('overrides: account, tier, regions, domain, admins', () => {
    const [env] = resolveEnvironments(context({
      env: 'prod',
      account: '111111111111',
      'prod:tier': 'one-year',
      'prod:regions': 'us-east-1,eu-central-1',
      'prod:activeApiRegion': 'eu-central-1',
      'prod:adminRoleArns': 'arn:aws:iam::111111111111:role/platform-admin',
    }));
    expect(env.account).toBe('111111111111');
    expect(env.tier).toBe('one-year');
    expect(env.regions.map((r) => [r.region, r.vpcCidr, r.availabilityZones.length])).toEqual([
      ['us-east-1', '10.30.0.0/16', 3],
      ['eu-central-1', '10.31.0.0/16', 3],
    ]);
    expect(env.edge.activeApiRegion).toBe('eu-central-1');
    expect(env.clusterAccess.adminRoleArns).toEqual(['arn:aws:iam::111111111111:role/platform-admin']);
  });

  test('a tier above dev needs three zones (provisioned MSK)', () => {
    const error = thrownBy(() => resolveEnvironments(context({ env: 'dev', 'dev:tier': 'launch' })));
    expect(error.problems).toEqual([{
      field: 'dev.regions[0].availabilityZones',
      value: ['us-east-1a', 'us-east-1b'],
      allowed: 'at least 3 zones for the launch tier (provisioned MSK spreads its brokers over three zones)',
    }]);
  });

  test('an unknown capacity tier lists the tiers', () => {
    const error = thrownBy(() => resolveEnvironments(context({ env: 'staging', 'staging:tier': 'two-year' })));
    expect(error.problems).toEqual([{ field: 'staging.tier', value: 'two-year', allowed: 'one of dev, launch, six-month, one-year' }]);
  });
});

describe('environment validation', () => {
  test('overlapping VPC CIDRs between regions', () => {
    const env = { ...prod, regions: [prod.regions[0], { ...prod.regions[1], vpcCidr: '10.30.128.0/17' }, prod.regions[2]] };
    expect(problemsOf(env)).toEqual([
      'prod.regions[1].vpcCidr | "10.30.128.0/17" | a range that does not overlap regions[0].vpcCidr (10.30.0.0/16) of us-east-1',
    ]);
  });

  test('malformed CIDRs and prefixes out of range', () => {
    const env = { ...prod, regions: [{ ...prod.regions[0], vpcCidr: '10.30.0.1/16' }, { ...prod.regions[1], vpcCidr: '10.0.0.0/8' }, prod.regions[2]] };
    expect(problemsOf(env)).toEqual([
      'prod.regions[0].vpcCidr | "10.30.0.1/16" | an IPv4 CIDR with no host bits set, such as 10.30.0.0/16',
      'prod.regions[1].vpcCidr | "10.0.0.0/8" | a prefix from /16 to /20 (VPC limits, room for 3 tiers x 3 AZs)',
      'prod.regions[2].vpcCidr | "10.32.0.0/16" | a range that does not overlap regions[1].vpcCidr (10.0.0.0/8) of eu-west-1',
    ]);
  });

  test('zones that do not belong to their region', () => {
    const env = { ...prod, regions: [{ ...prod.regions[0], availabilityZones: ['us-east-1a', 'eu-west-1b', 'us-east-1z'] }, ...prod.regions.slice(1)] };
    const problems = problemsOf(env);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^prod\.regions\[0\]\.availabilityZones\[1\] \| "eu-west-1b" \| a zone of us-east-1: us-east-1a, us-east-1b/);
    expect(problems[1]).toMatch(/^prod\.regions\[0\]\.availabilityZones\[2\] \| "us-east-1z"/);
  });

  test('too few zones, NAT outside its range, unknown region', () => {
    const env = { ...prod, regions: [{ ...prod.regions[0], availabilityZones: ['us-east-1a', 'us-east-1b'], natGateways: 3 }, { ...prod.regions[1], region: 'mars-1' }, prod.regions[2]] };
    const fields = validateEnvironment(env).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['prod.regions[0].availabilityZones', 'prod.regions[0].natGateways', 'prod.regions[1].region']));
  });

  test('replica overrides: min above max, below one', () => {
    const env = { ...prod, replicaOverrides: { api: { min: 10, max: 5 }, worker: { min: 0, max: 4 } } };
    expect(problemsOf(env)).toEqual([
      'prod.replicaOverrides.api.min | 10 | at most max (5)',
      'prod.replicaOverrides.worker.min | 0 | a whole number of at least 1',
    ]);
  });

  test('data-protection rules: prod keeps data, previews keep nothing, prod deployer is not cluster admin', () => {
    expect(problemsOf({ ...prod, retainData: false, terminationProtection: false, clusterAccess: { ...prod.clusterAccess, deployerIsClusterAdmin: true } })).toEqual([
      'prod.retainData | false | true: prod never deletes data with its stacks',
      'prod.terminationProtection | false | true in prod',
      'prod.clusterAccess.deployerIsClusterAdmin | true | false in prod: grant admins through clusterAccess.adminRoleArns',
    ]);
    expect(problemsOf({ ...previewEnvironment('pr-3'), retainData: true })).toEqual([
      'pr-3.retainData | true | false: preview environments must destroy cleanly',
    ]);
  });

  test('retention, account, edge, access and alarm fields', () => {
    const env: EnvironmentConfig = {
      ...prod,
      account: 'abc',
      backupRetentionDays: 40,
      logRetentionDays: 10,
      edge: { ...prod.edge, priceClass: 'PriceClass_1' as never, geoRestriction: { type: 'allow', countries: ['usa'] }, wafRateLimitPer5Minutes: 5, activeApiRegion: 'us-west-2' },
      clusterAccess: { ...prod.clusterAccess, adminRoleArns: ['admin'], publicEndpointCidrs: ['0.0.0.0/0'] },
      alarmEmails: ['ops'],
    };
    expect(validateEnvironment(env).map((p) => p.field)).toEqual([
      'prod.account',
      'prod.backupRetentionDays',
      'prod.logRetentionDays',
      'prod.edge.priceClass',
      'prod.edge.geoRestriction.countries',
      'prod.edge.wafRateLimitPer5Minutes',
      'prod.edge.activeApiRegion',
      'prod.clusterAccess.adminRoleArns[0]',
      'prod.clusterAccess.publicEndpointCidrs[0]',
      'prod.alarmEmails[0]',
    ]);
  });
});

describe('edge custom domain', () => {
  const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-2222-3333-444455556666';
  const withDomain = (edge: Partial<EnvironmentConfig['edge']>, account?: string): EnvironmentConfig =>
    ({ ...prod, account, edge: { ...prod.edge, ...edge } });

  test('no environment sets one by default; names with a us-east-1 certificate are valid', () => {
    for (const env of Object.values(LONG_LIVED_ENVIRONMENTS)) expect([env.edge.domainNames, env.edge.certificateArn]).toEqual([undefined, undefined]);
    expect(problemsOf(withDomain({ domainNames: ['connecthub.example.com', '*.cdn.example.com'], certificateArn: CERT }, '111111111111'))).toEqual([]);
  });

  test('names and certificate go together', () => {
    expect(problemsOf(withDomain({ domainNames: ['app.example.com'] }))).toEqual([
      'prod.edge.certificateArn | undefined | an ACM certificate ARN in us-east-1 covering edge.domainNames (app.example.com); custom domain names need their own certificate',
    ]);
    expect(problemsOf(withDomain({ certificateArn: CERT }))).toEqual([
      'prod.edge.domainNames | [] | at least one host name the certificate covers (edge.certificateArn is set); or leave both unset for the default *.cloudfront.net name',
    ]);
  });

  test('the certificate must be an ACM ARN in us-east-1 of the environment\'s account', () => {
    expect(problemsOf(withDomain({ domainNames: ['app.example.com'], certificateArn: 'arn:aws:iam::111111111111:server-certificate/app' }))).toEqual([
      'prod.edge.certificateArn | "arn:aws:iam::111111111111:server-certificate/app" | an ACM certificate ARN, arn:aws:acm:us-east-1:<account>:certificate/<uuid>',
    ]);
    const euCert = CERT.replace('us-east-1', 'eu-west-1');
    expect(problemsOf(withDomain({ domainNames: ['app.example.com'], certificateArn: euCert }))).toEqual([
      `prod.edge.certificateArn | "${euCert}" | a certificate in us-east-1, not eu-west-1: CloudFront only uses ACM certificates from us-east-1`,
    ]);
    expect(problemsOf(withDomain({ domainNames: ['app.example.com'], certificateArn: CERT }, '222222222222'))).toEqual([
      `prod.edge.certificateArn | "${CERT}" | a certificate of the environment's account 222222222222, not 111111111111: CloudFront cannot use another account's certificate`,
    ]);
  });

  test('host names: syntax, not CloudFront\'s own, each once, at most 100', () => {
    const bad = ['App.example.com', 'app..example.com', '-app.example.com', 'app', 'a.*.example.com', `${'x'.repeat(64)}.example.com`, 'd111111abcdef8.cloudfront.net', 'ok.example.com', 'ok.example.com'];
    expect(validateEnvironment(withDomain({ domainNames: bad, certificateArn: CERT })).map((p) => `${p.field} ${JSON.stringify(p.value)}`)).toEqual([
      'prod.edge.domainNames[0] "App.example.com"',
      'prod.edge.domainNames[1] "app..example.com"',
      'prod.edge.domainNames[2] "-app.example.com"',
      'prod.edge.domainNames[3] "app"',
      'prod.edge.domainNames[4] "a.*.example.com"',
      `prod.edge.domainNames[5] "${'x'.repeat(64)}.example.com"`,
      'prod.edge.domainNames[6] "d111111abcdef8.cloudfront.net"',
      'prod.edge.domainNames[8] "ok.example.com"',
    ]);
    expect(validateEnvironment(withDomain({ domainNames: bad, certificateArn: CERT })).map((p) => p.allowed)).toEqual([
      ...Array(6).fill('a lower-case DNS host name such as app.example.com or *.example.com (labels of letters, digits and dashes, at most 253 characters)'),
      'a name of your own domain; *.cloudfront.net names belong to CloudFront',
      'each name once',
    ]);
    const many = Array.from({ length: 101 }, (_, i) => `h${i}.example.com`);
    expect(problemsOf(withDomain({ domainNames: many, certificateArn: CERT }))).toEqual([
      "prod.edge.domainNames | 101 | at most 100 names (CloudFront's alternate domain name quota)",
    ]);
  });

  test('-c <env>:edgeDomainNames (comma list) and <env>:edgeCertificateArn set one environment\'s domain', () => {
    const [staging, prodEnv] = resolveEnvironments(context({
      env: 'staging,prod',
      'prod:edgeDomainNames': 'connecthub.example.com, www.connecthub.example.com',
      'prod:edgeCertificateArn': CERT,
      'prod:activeApiRegion': 'eu-west-1',
    }));
    expect(prodEnv.edge).toMatchObject({ domainNames: ['connecthub.example.com', 'www.connecthub.example.com'], certificateArn: CERT, activeApiRegion: 'eu-west-1' });
    expect(prodEnv.edge.priceClass).toBe(prod.edge.priceClass);
    expect([staging.edge.domainNames, staging.edge.certificateArn]).toEqual([undefined, undefined]);
  });

  test('a bad override fails resolution naming the field and the value', () => {
    const error = thrownBy(() => resolveEnvironments(context({ env: 'prod', 'prod:edgeCertificateArn': CERT.replace('us-east-1', 'eu-west-1') })));
    expect(error.problems.map((p) => p.field)).toEqual(['prod.edge.domainNames', 'prod.edge.certificateArn']);
    expect(error.message).toContain('prod.edge.certificateArn = "arn:aws:acm:eu-west-1:');
  });
});

describe('kafkaReplication', () => {
  const staging = LONG_LIVED_ENVIRONMENTS.staging;

  test("defaults to off everywhere, and off is valid in every environment", () => {
    for (const env of [...Object.values(LONG_LIVED_ENVIRONMENTS), previewEnvironment('pr-9')]) {
      expect(env.kafkaReplication ?? 'off').toBe('off');
      expect(problemsOf({ ...env, kafkaReplication: 'off' })).toEqual([]);
    }
    expect(problemsOf({ ...prod, kafkaReplication: undefined })).toEqual([]);
  });

  test('prepare and on are valid for the provisioned multi-region environments', () => {
    for (const mode of ['prepare', 'on'] as const) {
      expect(problemsOf({ ...prod, kafkaReplication: mode })).toEqual([]);
      expect(problemsOf({ ...staging, kafkaReplication: mode })).toEqual([]);
    }
  });

  test('an unknown value names the field, the value and the allowed ones', () => {
    expect(problemsOf({ ...prod, kafkaReplication: 'yes' as never })).toEqual([
      'prod.kafkaReplication | "yes" | one of off, prepare, on',
    ]);
  });

  test('MSK Serverless (dev tier: dev and pr-N) refuses anything but off', () => {
    expect(problemsOf({ ...LONG_LIVED_ENVIRONMENTS.dev, kafkaReplication: 'prepare' })).toEqual([
      'dev.kafkaReplication | "prepare" | off: tier dev runs MSK Serverless, which cannot be a cross-region replicator source (use a provisioned tier: launch, six-month, one-year)',
    ]);
    expect(problemsOf({ ...previewEnvironment('pr-4'), kafkaReplication: 'on' }).map((p) => p.split(' | ').slice(0, 2).join(' | '))).toEqual([
      'pr-4.kafkaReplication | "on"',
    ]);
    expect(problemsOf({ ...staging, tier: 'dev', kafkaReplication: 'on' })[0]).toContain('staging.kafkaReplication | "on" | off: tier dev runs MSK Serverless');
  });

  test('on needs a secondary region; prepare is allowed with one region', () => {
    const single = { ...prod, regions: prod.regions.slice(0, 1) };
    expect(problemsOf({ ...single, kafkaReplication: 'on' })).toEqual([
      'prod.kafkaReplication | "on" | off or prepare: on needs a secondary region to replicate into, and prod has 1 region(s)',
    ]);
    expect(problemsOf({ ...single, kafkaReplication: 'prepare' })).toEqual([]);
  });

  test('-c <env>:kafkaReplication overrides one environment; a bad value fails resolution with one clear message', () => {
    const envs = resolveEnvironments(context({ env: 'staging,prod', 'prod:kafkaReplication': 'on' }));
    expect(envs.map((e) => `${e.name}=${e.kafkaReplication}`)).toEqual(['staging=off', 'prod=on']);
    expect(resolveEnvironments(context({ env: 'staging', 'staging:kafkaReplication': ' prepare ' }))[0].kafkaReplication).toBe('prepare');

    const error = thrownBy(() => resolveEnvironments(context({ env: 'dev,prod', 'dev:kafkaReplication': 'on', 'prod:kafkaReplication': 'ON' })));
    expect(error.problems.map((p) => `${p.field} | ${JSON.stringify(p.value)}`)).toEqual([
      'dev.kafkaReplication | "on"',
      'prod.kafkaReplication | "ON"',
    ]);
    expect(error.message).toContain('prod.kafkaReplication = "ON": one of off, prepare, on');
  });
});
