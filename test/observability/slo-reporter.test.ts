import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type GetMetricDataCommandInput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { buildQueries, buildReport, fetchMetricData, formatTable, MAX_QUERIES_PER_REQUEST } from '../../lambdas/slo-reporter/reporter';
import { handler, readConfig, runOnce } from '../../lambdas/slo-reporter/index';

const cw = mockClient(CloudWatchClient);
const NOW = Date.UTC(2026, 10, 26, 12, 0, 30);
const client = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });

/** Answers every query with `points` data points ending at the window end; value chosen by query id suffix and stat. */
function fakeData(input: GetMetricDataCommandInput, values: Record<string, number>) {
  const end = input.EndTime!.getTime();
  return {
    MetricDataResults: input.MetricDataQueries!.map((q) => {
      const period = q.MetricStat!.Period! * 1000;
      const points = Math.min(3, (end - input.StartTime!.getTime()) / period);
      const key = `${q.MetricStat!.Metric!.MetricName}:${q.MetricStat!.Stat}`;
      const v = values[key];
      const timestamps = v === undefined ? [] : Array.from({ length: points }, (_, i) => new Date(end - (i + 1) * period));
      return { Id: q.Id, Timestamps: timestamps, Values: timestamps.map(() => v), StatusCode: 'Complete' as const };
    }),
  };
}

const healthy = {
  'Requests:Sum': 10_000,
  'Errors5xx:Sum': 5,
  'RequestLatency:SampleCount': 10_000,
  'RequestLatency:TC(:200)': 9_950,
  'DbQueryLatency:SampleCount': 20_000,
  'DbQueryLatency:TC(:50)': 19_000, // 95 % < 99 %: breached
};

beforeEach(() => cw.reset());

describe('queries and fetching', () => {
  test('availability reads Sum of Requests and Errors5xx; latency reads SampleCount and TC(:threshold)', () => {
    const { queries } = buildQueries('prod', 3600);
    const byId = Object.fromEntries(queries.map((q) => [q.Id, q.MetricStat]));
    expect(byId.s0_total).toMatchObject({ Stat: 'Sum', Period: 3600, Metric: { Namespace: 'ConnectHub/Backend', MetricName: 'Requests', Dimensions: [{ Name: 'Environment', Value: 'prod' }, { Name: 'Service', Value: 'api' }] } });
    expect(byId.s0_bad).toMatchObject({ Stat: 'Sum', Metric: { MetricName: 'Errors5xx' } });
    expect(byId.s1_total).toMatchObject({ Stat: 'SampleCount', Metric: { MetricName: 'RequestLatency' } });
    expect(byId.s1_good).toMatchObject({ Stat: 'TC(:200)', Metric: { MetricName: 'RequestLatency' } });
    expect(byId.s2_good).toMatchObject({ Stat: 'TC(:50)', Metric: { MetricName: 'DbQueryLatency' } });
    expect(byId.s3_good).toMatchObject({ Stat: 'TC(:500)', Metric: { MetricName: 'MessageDeliveryLatency', Dimensions: [{ Name: 'Environment', Value: 'prod' }, { Name: 'Service', Value: 'realtime' }] } });
  });

  test('batches at most 500 queries per request and follows NextToken pages', async () => {
    const queries: MetricDataQuery[] = Array.from({ length: 1100 }, (_, i) => ({ Id: `q${i}`, MetricStat: { Metric: { Namespace: 'N', MetricName: 'M' }, Period: 60, Stat: 'Sum' } }));
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const first = input.MetricDataQueries![0].Id!;
      if (!input.NextToken) {
        return { MetricDataResults: [{ Id: first, Timestamps: [new Date(60_000)], Values: [1] }], NextToken: `more-${first}` };
      }
      return { MetricDataResults: [{ Id: first, Timestamps: [new Date(60_000), new Date(120_000)], Values: [2, 3] }] };
    });
    const series = await fetchMetricData(client, queries, new Date(0), new Date(3600_000));
    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.MetricDataQueries!.length)).toEqual([500, 500, 500, 500, 100, 100]);
    expect(Math.max(...calls.map((c) => c.MetricDataQueries!.length))).toBeLessThanOrEqual(MAX_QUERIES_PER_REQUEST);
    expect(calls.filter((c) => c.NextToken).map((c) => c.NextToken)).toEqual(['more-q0', 'more-q500', 'more-q1000']);
    // values of the same id and timestamp across pages add up
    expect(series.get('q0')).toEqual(new Map([[60_000, 3], [120_000, 3]]));
    expect(series.get('q1')).toEqual(new Map());
  });
});

describe('buildReport', () => {
  test('per-region and combined entries; missing series give no-data', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fakeData(input, healthy));
    const report = await buildReport({ environment: 'staging', regions: ['us-east-1', 'eu-west-1'], window: '1d', windowSeconds: 86400, clientFor: () => client, now: NOW });
    expect(report.entries).toHaveLength(4 * 3);
    const get = (slo: string, region: string) => report.entries.find((e) => e.sloId === slo && e.region === region)!;
    const availability = get('api-availability', 'all');
    expect(availability.result.totalEvents).toBe(60_000);
    expect(availability.result.attainment).toBeCloseTo(1 - 5 / 10_000, 10);
    expect(availability.result.status).toBe('met');
    expect(availability.result.partial).toBe(true); // 3 of 1440 minutes
    expect(get('api-latency', 'eu-west-1').result.attainment).toBeCloseTo(0.995, 10);
    expect(get('db-query-latency', 'us-east-1').result.status).toBe('breached');
    expect(get('message-delivery-latency', 'us-east-1').result.status).toBe('no-data');
    // window ends at the last complete period
    expect(availability.windowEnd).toBe('2026-11-26T12:00:00.000Z');
    expect(availability.windowStart).toBe('2026-11-25T12:00:00.000Z');
    expect(availability.periodSeconds).toBe(60);
    const table = formatTable([report]);
    expect(table).toMatch(/^ConnectHub SLO report: env staging/);
    expect(table).toMatch(/api-availability\s+all\s+1d\s+99\.90 %\s+99\.950 %\s+50\.0 %\s+0\.50\s+59970\/60000\s+0 %\s+met \(partial\)/);
    expect(table).toMatch(/message-delivery-latency\s+us-east-1\s+1d\s+99\.00 %\s+-\s+-\s+-\s+0\/0\s+0 %\s+no-data/);
  });
});

describe('reporter Lambda', () => {
  test('readConfig reports every bad setting at once', () => {
    expect(() => readConfig({ CONNECTHUB_ENVIRONMENT: 'qa', SLO_WINDOWS: '1h,soon' })).toThrow(
      /CONNECTHUB_ENVIRONMENT: env "qa" is not known; allowed: dev, staging, prod or pr-<number>; AWS_REGION is not set; SLO_WINDOWS: window "soon" is not valid/,
    );
    expect(() => readConfig({ AWS_REGION: 'us-east-1' })).toThrow(/CONNECTHUB_ENVIRONMENT is not set.*SLO_WINDOWS is empty/);
    expect(readConfig({ CONNECTHUB_ENVIRONMENT: 'pr-7', AWS_REGION: 'us-east-1', SLO_WINDOWS: '1h, 30d' })).toEqual({
      environment: 'pr-7',
      region: 'us-east-1',
      windows: [{ label: '1h', seconds: 3600 }, { label: '30d', seconds: 2592000 }],
    });
  });

  test('runOnce publishes attainment, budget, burn rate and coverage to ConnectHub/SLO', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fakeData(input, healthy));
    cw.on(PutMetricDataCommand).resolves({});
    const { published } = await runOnce({ environment: 'prod', region: 'eu-west-1', windows: [{ label: '1h', seconds: 3600 }, { label: '30d', seconds: 2592000 }] }, client, NOW);
    // per window: 3 SLOs with data x 4 metrics + 1 no-data SLO x coverage only
    expect(published).toBe(2 * (3 * 4 + 1));
    expect(cw).toHaveReceivedCommandTimes(PutMetricDataCommand, 2);
    const put = cw.commandCalls(PutMetricDataCommand)[0].args[0].input;
    expect(put.Namespace).toBe('ConnectHub/SLO');
    const attainment = put.MetricData!.find((d) => d.MetricName === 'Attainment' && d.Dimensions!.some((x) => x.Value === 'api-availability'))!;
    expect(attainment.Dimensions).toEqual([{ Name: 'Environment', Value: 'prod' }, { Name: 'Slo', Value: 'api-availability' }, { Name: 'Window', Value: '1h' }]);
    expect(attainment.Unit).toBe('Percent');
    expect(attainment.Value).toBeCloseTo(99.95, 8);
    const budget = put.MetricData!.find((d) => d.MetricName === 'ErrorBudgetRemaining' && d.Dimensions!.some((x) => x.Value === 'api-availability'))!;
    expect(budget.Value).toBeCloseTo(50, 6);
    const noData = put.MetricData!.filter((d) => d.Dimensions!.some((x) => x.Value === 'message-delivery-latency'));
    expect(noData.map((d) => d.MetricName)).toEqual(['DataCoverage']);
    // 30d window reads hourly points
    const longRead = cw.commandCalls(GetMetricDataCommand)[1].args[0].input;
    expect(longRead.MetricDataQueries![0].MetricStat!.Period).toBe(3600);
  });

  test('handler reads its configuration from the environment and reports a summary', async () => {
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fakeData(input, healthy));
    cw.on(PutMetricDataCommand).resolves({});
    const saved = { ...process.env };
    Object.assign(process.env, { CONNECTHUB_ENVIRONMENT: 'dev', AWS_REGION: 'us-east-1', SLO_WINDOWS: '1h', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const out = await handler();
      expect(out).toMatchObject({ environment: 'dev', region: 'us-east-1', published: 13 });
      expect(out.summary.find((s) => s.slo === 'db-query-latency')).toEqual({ slo: 'db-query-latency', window: '1h', status: 'breached', attainment: 0.95 });
      expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({ message: 'slo report published', published: 13 });
    } finally {
      log.mockRestore();
      process.env = saved;
    }
  });
});
