/**
 * Bad props fail at construction with one error naming every field, value and what is allowed.
 * No synthesis happens in this file: the constructors throw before adding resources.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { validateAlertSubscriptions } from '../../constructs/observability/alert-topic';
import { ConnectHubMonitoring, redisNodeClusterIds, validateMonitoringProps } from '../../constructs/observability/connecthub-monitoring';
import { SloReporter } from '../../constructs/observability/slo-reporter-function';
import { WebVitalsMonitor } from '../../constructs/observability/web-vitals-monitor';

const stack = (region = 'us-east-1') => new Stack(new App(), 'S', { env: { account: '111111111111', region } });

describe('ConnectHubMonitoring props', () => {
  test('every problem in one error', () => {
    const s = stack('eu-west-1');
    expect(
      () =>
        new ConnectHubMonitoring(s, 'M', {
          environmentName: 'qa',
          subscriptions: { emails: ['not-an-email'], httpsUrls: ['http://insecure.example.com'], sqsQueueArns: ['arn:aws:sns:eu-west-1:111111111111:topic'] },
          targets: { availability: 1.5, errorRatePercent: 0 },
          thresholds: { cpuPercent: 120, consumerLag: -1 },
          burnRateWindows: [
            { name: 'Fast', longWindow: Duration.minutes(5), shortWindow: Duration.hours(1), burnRate: 14.4 },
            { name: 'Fast', longWindow: Duration.days(2), shortWindow: Duration.seconds(90), burnRate: 0 },
          ],
          cloudFront: { distributionId: 'E1', alarms: true },
          redis: { replicationGroupId: 'r', nodeClusterIds: [] },
          kafka: { clusterName: 'k', brokerCount: 0, consumerGroups: [''] },
          eks: { clusterName: 'c', namespace: 'n', workloads: [{ service: 'web' as never, maxReplicas: 2.5 }] },
          functions: { 'bad name': undefined as never },
        }),
    ).toThrow(
      new RegExp(
        [
          'ConnectHubMonitoring S/M: environmentName "qa" is not allowed; use dev, staging, prod or pr-<number>',
          'subscriptions.emails\\[0\\] "not-an-email" is not an e-mail address',
          'subscriptions.httpsUrls\\[0\\] "http://insecure.example.com" is not an https:// URL',
          'subscriptions.sqsQueueArns\\[0\\] "arn:aws:sns:eu-west-1:111111111111:topic" is not an SQS queue ARN',
          'targets.availability 1.5 must be between 0 and 1',
          'targets.errorRatePercent 0 must be between 0 and 100',
          'thresholds.cpuPercent 120 must be a percentage in \\(0, 100\\]',
          'thresholds.consumerLag -1 must be an integer >= 1',
          'burnRateWindows\\[0\\].shortWindow \\(3600s\\) must be shorter than longWindow \\(300s\\)',
          'burnRateWindows\\[1\\].name "Fast" is used twice',
          'burnRateWindows\\[1\\].longWindow 172800s must be whole minutes between 1 minute and 1 day',
          'burnRateWindows\\[1\\].shortWindow 90s must be whole minutes between 1 minute and 1 day',
          'burnRateWindows\\[1\\].burnRate 0 must be positive',
          'functions key "bad name" must be letters and digits',
          'redis.nodeClusterIds must list at least one node',
          'kafka.brokerCount 0 must be an integer >= 1',
          'kafka.consumerGroups\\[0\\] must not be empty',
          'eks.workloads\\[0\\].service "web" must be api, realtime or worker',
          'eks.workloads\\[0\\].maxReplicas 2.5 must be an integer >= 1',
          'cloudFront.alarms is true but the stack region is eu-west-1',
        ].join('.*'),
      ),
    );
  });

  test('subscriptions and an existing topic exclude each other; duplicates are reported', () => {
    const s = stack();
    const topic = new sns.Topic(s, 'T');
    expect(() => new ConnectHubMonitoring(s, 'M', { environmentName: 'prod', alertTopic: topic, subscriptions: { emails: ['a@b.io'] } })).toThrow(
      /subscriptions must be empty when alertTopic is given/,
    );
    expect(validateAlertSubscriptions({ emails: ['a@b.io', 'a@b.io'] })).toEqual(['subscriptions lists "a@b.io" more than once']);
  });

  test('a stack without an explicit region is rejected', () => {
    const s = new Stack(new App(), 'NoEnv');
    expect(() => new ConnectHubMonitoring(s, 'M', { environmentName: 'dev' })).toThrow(/the stack must have an explicit region/);
  });

  test('load balancer ARNs are checked', () => {
    expect(
      () =>
        new ConnectHubMonitoring(stack(), 'M', {
          environmentName: 'dev',
          loadBalancer: { kind: 'application', loadBalancerArn: 'arn:aws:s3:::bucket', targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/a/b' },
        }),
    ).toThrow(/loadBalancer.loadBalancerArn "arn:aws:s3:::bucket" is not a load balancer ARN/);
  });

  test('an application load balancer needs its target group; a network one may go without; names are checked', () => {
    const arn = 'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/a/b';
    expect(validateMonitoringProps({ environmentName: 'dev', loadBalancer: { kind: 'application', loadBalancerArn: arn, name: 'Api' } })).toEqual([
      'loadBalancer.targetGroupArn is required when loadBalancer.kind is application (its target health and 5xx alarms need it)',
      'loadBalancer.name "Api" must be lower-case letters, digits and dashes, starting with a letter',
    ]);
    expect(validateMonitoringProps({ environmentName: 'dev', loadBalancer: { kind: 'network', loadBalancerArn: arn.replace('/app/', '/net/'), name: 'api' } })).toEqual([]);
  });

  test('several load balancers each need a distinct name', () => {
    const nlb = (name?: string) => ({ kind: 'network' as const, loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/a/b', name });
    expect(validateMonitoringProps({ environmentName: 'dev', loadBalancer: nlb(), loadBalancers: [nlb('api'), nlb('api')] })).toEqual([
      'loadBalancer.name is required when several load balancers are watched (it keeps their alarm names apart)',
      'loadBalancers[1].name "api" is used twice',
    ]);
    expect(validateMonitoringProps({ environmentName: 'dev', loadBalancers: [nlb('api'), nlb('realtime')] })).toEqual([]);
  });

  test('valid props produce no problems; pr-N environments are accepted', () => {
    expect(validateMonitoringProps({ environmentName: 'pr-123', subscriptions: { emails: ['oncall@example.com'] } })).toEqual([]);
  });

  test('redisNodeClusterIds follows ElastiCache node naming', () => {
    expect(redisNodeClusterIds('ch', 2, 1, true)).toEqual(['ch-0001-001', 'ch-0001-002', 'ch-0002-001', 'ch-0002-002']);
    expect(redisNodeClusterIds('ch', 1, 2, false)).toEqual(['ch-001', 'ch-002', 'ch-003']);
  });
});

describe('SloReporter and WebVitalsMonitor props', () => {
  test('SloReporter lists every problem', () => {
    expect(() => new SloReporter(stack(), 'R', { environmentName: 'Prod', windows: ['30d', '30d', '2y'], schedule: Duration.minutes(1) })).toThrow(
      /environmentName "Prod" is not allowed.*windows\[2\]: window "2y" is not valid.*lists a window twice.*schedule 1 minute must be whole minutes from 5 minutes to 1 day/,
    );
  });

  test('WebVitalsMonitor lists every problem', () => {
    const s = stack();
    expect(
      () => new WebVitalsMonitor(s, 'W', { environmentName: 'dev', webDomain: 'https://app.example.com/', alertTopic: new sns.Topic(s, 'T'), sessionSampleRate: 2, percentile: 100 }),
    ).toThrow(/webDomain "https:\/\/app.example.com\/" must be a lower-case host name.*sessionSampleRate 2 must be between 0 and 1.*percentile 100 must be an integer from 50 to 99/);
  });

  test('WebVitalsMonitor: at most 4 aliases besides the distribution name, each a host name', () => {
    const s = stack();
    const props = { environmentName: 'dev', webDomain: 'd111.cloudfront.net', alertTopic: new sns.Topic(s, 'T') };
    expect(() => new WebVitalsMonitor(s, 'Many', { ...props, aliases: ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com', 'e.example.com'] }))
      .toThrow(/aliases: 5 host names; a RUM app monitor takes at most 5 domains, so at most 4 besides webDomain/);
    expect(() => new WebVitalsMonitor(s, 'Bad', { ...props, aliases: ['https://app.example.com'] }))
      .toThrow(/aliases: "https:\/\/app.example.com" must be a lower-case host name/);
  });
});
