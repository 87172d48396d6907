import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { describeCredentialError, main, parseArgs, type CliDeps } from '../../tools/slo-report';

const cw = mockClient(CloudWatchClient);
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const regions: string[] = [];
  const deps: CliDeps = {
    clientFor: (region) => {
      regions.push(region);
      return new CloudWatchClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    },
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    now: () => NOW,
  };
  return main(argv, deps).then((code) => ({ code, out: out.join('\n'), err: err.join('\n'), regions }));
}

function respond(input: GetMetricDataCommandInput) {
  return {
    MetricDataResults: input.MetricDataQueries!.map((q) => {
      const name = q.MetricStat!.Metric!.MetricName;
      const value = name === 'Requests' ? 1000 : name === 'Errors5xx' ? 2 : undefined;
      const ts = value === undefined ? [] : [new Date(input.EndTime!.getTime() - 3600_000)];
      return { Id: q.Id, Timestamps: ts, Values: ts.map(() => value!) };
    }),
  };
}

beforeEach(() => cw.reset());

describe('flag validation', () => {
  test.each([
    [[], /--env is required \(dev, staging, prod or pr-<number>\)/],
    [['--env', 'qa'], /--env: env "qa" is not known; allowed: dev, staging, prod or pr-<number>/],
    [['--env', 'prod', '--region', 'us-west-2'], /--region "us-west-2" is not a region of env "prod"; allowed: us-east-1, eu-west-1, ap-southeast-1/],
    [['--env', 'prod', '--window', 'forever'], /--window: window "forever" is not valid/],
    [['--env', 'prod', '--window'], /--window needs a value/],
    [['--env', 'prod', '--verbose'], /unknown argument "--verbose"/],
  ])('%j is rejected', async (argv, message) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/usage: npm run slo-report -- --env/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
  });

  test('every problem is reported at once', () => {
    expect(parseArgs(['--env', 'qa', '--window', '0d', '--x'])).toEqual({ errors: [expect.stringMatching(/unknown argument "--x"/), expect.stringMatching(/--env/), expect.stringMatching(/--window/)] });
  });

  test('defaults and --flag=value form', () => {
    expect(parseArgs(['--env=prod', '--region=eu-west-1'])).toEqual({ options: { env: 'prod', regions: ['eu-west-1'], window: '30d', windowSeconds: 2592000, json: false } });
    expect(parseArgs(['--help'])).toEqual({ help: true });
  });
});

describe('reports', () => {
  test('table for every region of the environment plus the combination', async () => {
    cw.on(GetMetricDataCommand).callsFake(respond);
    const r = await run(['--env', 'prod', '--window', '7d']);
    expect(r.code).toBe(0);
    expect(r.regions).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    expect(r.out).toMatch(/api-availability\s+all\s+7d\s+99\.90 %\s+99\.800 %/);
    expect(r.out).toMatch(/api-availability\s+eu-west-1\s+7d/);
    expect(r.out).toMatch(/breached \(partial\)/);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 3);
  });

  test('--json prints the report as JSON for one region', async () => {
    cw.on(GetMetricDataCommand).callsFake(respond);
    const r = await run(['--env', 'staging', '--region', 'eu-west-1', '--window', '1d', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ environment: 'staging', regions: ['eu-west-1'], window: '1d' });
    expect(report.entries).toHaveLength(4);
    expect(report.entries[0]).toMatchObject({ sloId: 'api-availability', region: 'eu-west-1', result: { totalEvents: 1000, badEvents: 2, status: 'breached' } });
  });
});

describe('credentials', () => {
  test('missing credentials: one line naming what is missing and how to provide it, exit 1', async () => {
    const e = new Error('Could not load credentials from any providers');
    e.name = 'CredentialsProviderError';
    cw.on(GetMetricDataCommand).rejects(e);
    const r = await run(['--env', 'dev']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^slo-report: no AWS credentials found \(CredentialsProviderError: Could not load credentials from any providers\)\. Provide them with AWS_PROFILE=<profile>.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.*cloudwatch:GetMetricData\.$/);
  });

  test('rejected credentials and other AWS errors', async () => {
    const expired = Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' });
    expect(describeCredentialError(expired)).toMatch(/^slo-report: AWS rejected the credentials \(ExpiredTokenException: The security token included in the request is expired\)\. Refresh them/);
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied' });
    expect(describeCredentialError(denied)).toBeUndefined();
    cw.on(GetMetricDataCommand).rejects(denied);
    const r = await run(['--env', 'dev']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('slo-report: reading CloudWatch failed (AccessDenied: User is not authorized to perform: cloudwatch:GetMetricData)');
  });

  test('the real CLI without any credentials exits 1 with one line (default provider chain, no network)', () => {
    const home = mkdtempSync(join(tmpdir(), 'slo-report-home-'));
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'tools/slo-report.ts', '--env', 'dev', '--window', '1h'], {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none') },
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^slo-report: no AWS credentials found \(CredentialsProviderError: /);
  });
});
