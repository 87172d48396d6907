import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rum from 'aws-cdk-lib/aws-rum';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PLAN_TARGETS, PR_ENVIRONMENT_PATTERN } from '../../lambdas/slo-reporter/slo-definitions';

/** Custom RUM event the web client records with its First Contentful Paint (see docs/observability.md). */
export const FCP_EVENT_TYPE = 'connecthub.web_vitals.fcp';

export interface WebVitalsMonitorProps {
  /** Environment name (dev, staging, prod or pr-<n>); part of the app monitor name. */
  readonly environmentName: string;
  /** Domain (or wildcard, `*.example.com`) of the web client that loads the RUM script, for example `app.connecthub.example`. */
  readonly webDomain: string;
  /**
   * The site's own host names when the distribution has them (the environment's `edge.domainNames`): browsers then load
   * the client from these, and RUM accepts events only from the monitor's domains. At most 4 (RUM takes 5 in all).
   * @default none
   */
  readonly aliases?: readonly string[];
  /** Topic the web-vitals alarms notify (the ConnectHubMonitoring topic of the same stack). */
  readonly alertTopic: sns.ITopic;
  /** Share of sessions RUM records, 0..1. @default 0.1 */
  readonly sessionSampleRate?: number;
  /** Link RUM page loads to X-Ray traces of the backend. @default true */
  readonly enableXRay?: boolean;
  /** Percentile the vitals are judged at (Google's Core Web Vitals use p75). @default 75 */
  readonly percentile?: number;
  /** Interaction to Next Paint limit; the plan names only First Input Delay (100 ms). @default 200 ms (Google's "good" limit) */
  readonly interactionToNextPaint?: Duration;
}

export interface WebVitalAlarmSpec {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly threshold: number;
  readonly description: string;
}

const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Problems with the props, each naming field, value and what is allowed. */
export function validateWebVitalsProps(props: WebVitalsMonitorProps): string[] {
  const p: string[] = [];
  if (!/^(dev|staging|prod)$/.test(props.environmentName) && !PR_ENVIRONMENT_PATTERN.test(props.environmentName)) {
    p.push(`environmentName "${props.environmentName}" is not allowed; use dev, staging, prod or pr-<number>`);
  }
  if (!Token.isUnresolved(props.webDomain) && !DOMAIN.test(props.webDomain)) {
    p.push(`webDomain "${props.webDomain}" must be a lower-case host name such as app.example.com or *.example.com (no scheme, no path)`);
  }
  const aliases = props.aliases ?? [];
  if (aliases.length > 4) p.push(`aliases: ${aliases.length} host names; a RUM app monitor takes at most 5 domains, so at most 4 besides webDomain`);
  for (const alias of aliases) {
    if (!Token.isUnresolved(alias) && !DOMAIN.test(alias)) p.push(`aliases: "${alias}" must be a lower-case host name such as app.example.com or *.example.com (no scheme, no path)`);
  }
  const rate = props.sessionSampleRate ?? 0.1;
  if (!(rate >= 0 && rate <= 1)) p.push(`sessionSampleRate ${rate} must be between 0 and 1`);
  const pct = props.percentile ?? 75;
  if (!(Number.isInteger(pct) && pct >= 50 && pct <= 99)) p.push(`percentile ${pct} must be an integer from 50 to 99`);
  return p;
}

/**
 * CloudWatch RUM for the web client and alarms on the plan's web targets: FCP 1.5 s, LCP 2.5 s,
 * CLS 0.1, FID 100 ms (and INP). The browser sends events with credentials of an unauthenticated
 * Cognito identity whose role may only call rum:PutRumEvents on this app monitor.
 *
 * LCP, CLS, FID and INP are RUM's built-in `AWS/RUM` metrics (dimension `application_name`). RUM has no
 * built-in FCP metric, so the web client records FCP as the custom event {@link FCP_EVENT_TYPE} and the
 * app monitor turns it into the custom metric `FirstContentfulPaint` in `RUM/CustomMetrics/<namespace>`.
 */
export class WebVitalsMonitor extends Construct {
  public readonly appMonitor: rum.CfnAppMonitor;
  public readonly appMonitorName: string;
  public readonly identityPool: cognito.CfnIdentityPool;
  public readonly guestRole: iam.Role;
  public readonly alarms: Record<string, cw.Alarm> = {};
  /** Namespace the FCP custom metric lands in. */
  public readonly customMetricNamespace: string;

  constructor(scope: Construct, id: string, props: WebVitalsMonitorProps) {
    super(scope, id);
    const problems = validateWebVitalsProps(props);
    if (problems.length > 0) throw new Error(`WebVitalsMonitor ${this.node.path}: ${problems.join('; ')}`);
    const stack = Stack.of(this);
    this.appMonitorName = `connecthub-${props.environmentName}-web`;
    const customNamespace = `ConnectHubWeb-${props.environmentName}`;
    this.customMetricNamespace = `RUM/CustomMetrics/${customNamespace}`;
    const appMonitorArn = stack.formatArn({ service: 'rum', resource: 'appmonitor', resourceName: this.appMonitorName });

    this.identityPool = new cognito.CfnIdentityPool(this, 'IdentityPool', {
      identityPoolName: `connecthub_${props.environmentName.replace(/-/g, '_')}_rum`,
      allowUnauthenticatedIdentities: true,
      allowClassicFlow: false,
    });
    this.guestRole = new iam.Role(this, 'GuestRole', {
      description: `Unauthenticated web visitors of ConnectHub ${props.environmentName}: may only send RUM events to ${this.appMonitorName}`,
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'unauthenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
      maxSessionDuration: Duration.hours(1),
    });
    new iam.ManagedPolicy(this, 'GuestPolicy', {
      description: `Web visitors of ConnectHub ${props.environmentName}: send RUM events to ${this.appMonitorName} only`,
      statements: [new iam.PolicyStatement({ actions: ['rum:PutRumEvents'], resources: [appMonitorArn] })],
      roles: [this.guestRole],
    });
    Validations.of(this.identityPool).acknowledge({
      id: 'AwsSolutions-COG7',
      reason: 'Real-user monitoring measures every visitor, signed in or not: unauthenticated identities get only a role that may call rum:PutRumEvents on this app monitor.',
    });
    new cognito.CfnIdentityPoolRoleAttachment(this, 'IdentityPoolRoles', {
      identityPoolId: this.identityPool.ref,
      roles: { unauthenticated: this.guestRole.roleArn },
    });

    this.appMonitor = new rum.CfnAppMonitor(this, 'AppMonitor', {
      name: this.appMonitorName,
      // One domain as before, or the list once the site has its own host names.
      ...(props.aliases?.length ? { domainList: [props.webDomain, ...props.aliases] } : { domain: props.webDomain }),
      cwLogEnabled: false,
      customEvents: { status: 'ENABLED' },
      appMonitorConfiguration: {
        allowCookies: true,
        enableXRay: props.enableXRay ?? true,
        guestRoleArn: this.guestRole.roleArn,
        identityPoolId: this.identityPool.ref,
        sessionSampleRate: props.sessionSampleRate ?? 0.1,
        telemetries: ['performance', 'errors', 'http'],
        metricDestinations: [
          {
            destination: 'CloudWatch',
            metricDefinitions: [
              {
                name: 'FirstContentfulPaint',
                namespace: customNamespace,
                valueKey: 'event_details.value',
                unitLabel: 'Milliseconds',
                eventPattern: JSON.stringify({ event_type: [FCP_EVENT_TYPE] }),
              },
            ],
          },
        ],
      },
    });

    const stat = `p${props.percentile ?? 75}`;
    const inpMs = props.interactionToNextPaint?.toMilliseconds() ?? 200;
    const specs: WebVitalAlarmSpec[] = [
      { id: 'FirstContentfulPaint', namespace: this.customMetricNamespace, metricName: 'FirstContentfulPaint', threshold: PLAN_TARGETS.firstContentfulPaintMs, description: `First Contentful Paint ${stat} above ${PLAN_TARGETS.firstContentfulPaintMs} ms (plan: < 1.5 s)` },
      { id: 'LargestContentfulPaint', namespace: 'AWS/RUM', metricName: 'WebVitalsLargestContentfulPaint', threshold: PLAN_TARGETS.largestContentfulPaintMs, description: `Largest Contentful Paint ${stat} above ${PLAN_TARGETS.largestContentfulPaintMs} ms (plan: < 2.5 s)` },
      { id: 'CumulativeLayoutShift', namespace: 'AWS/RUM', metricName: 'WebVitalsCumulativeLayoutShift', threshold: PLAN_TARGETS.cumulativeLayoutShift, description: `Cumulative Layout Shift ${stat} above ${PLAN_TARGETS.cumulativeLayoutShift} (plan: < 0.1)` },
      { id: 'FirstInputDelay', namespace: 'AWS/RUM', metricName: 'WebVitalsFirstInputDelay', threshold: PLAN_TARGETS.firstInputDelayMs, description: `First Input Delay ${stat} above ${PLAN_TARGETS.firstInputDelayMs} ms (plan: < 100 ms)` },
      { id: 'InteractionToNextPaint', namespace: 'AWS/RUM', metricName: 'WebVitalsInteractionToNextPaint', threshold: inpMs, description: `Interaction to Next Paint ${stat} above ${inpMs} ms (INP replaced FID as a Core Web Vital)` },
    ];
    const action = new cwActions.SnsAction(props.alertTopic);
    for (const s of specs) {
      const metric = new cw.Metric({
        namespace: s.namespace,
        metricName: s.metricName,
        dimensionsMap: s.namespace === 'AWS/RUM' ? { application_name: this.appMonitorName } : undefined,
        statistic: stat,
        period: Duration.minutes(15),
      });
      const alarm = metric.createAlarm(this, `${s.id}Alarm`, {
        alarmName: `ConnectHub-${props.environmentName}-${stack.region}-Web-${s.id}`,
        alarmDescription: `${s.description} for 30 minutes.`,
        threshold: s.threshold,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms[s.id] = alarm;
    }
    new cw.Dashboard(this, 'Dashboard', {
      dashboardName: `ConnectHub-${props.environmentName}-${stack.region}-WebVitals`,
      widgets: [
        specs.map(
          (s) =>
            new cw.GraphWidget({
              title: `${s.id} (${stat})`,
              width: 8,
              left: [this.alarms[s.id].metric],
              leftAnnotations: [{ value: s.threshold, label: 'plan target' }],
            }),
        ),
      ],
    });
  }
}
