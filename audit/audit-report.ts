/**
 * The audit report of one environment: a JSON document and its Markdown rendering, built from the synthesized
 * templates (whatever stacks they hold) and the capacity model. Deterministic: sorted everywhere, no timestamps,
 * so two reports of two commits diff cleanly.
 */
import { CapacityPlan, deriveCapacity } from '../lib/capacity/capacity-model';
import { PER_UNIT } from '../lib/capacity/per-unit-figures';
import { EnvironmentConfig } from '../lib/config/environment-config';
import { acknowledgments, Acknowledgment } from './acknowledgments';
import { alarmRecipientProblems, alarmTopics, AlarmTopic } from './alarm-notifications';
import { AssemblyStack, sortedResources } from './cloud-assembly';
import { wildcardStatements, WildcardStatement } from './iam-wildcards';
import { ExposureFinding, internetExposure } from './internet-exposure';
import { HelmRelease, helmReleases, KubernetesManifest, kubernetesManifests, WorkloadSummary, workloadSummaries } from './kubernetes-workloads';
import { compare, StatefulResource, statefulResources } from './stateful-resources';

/** Bumped when the JSON shape changes incompatibly. */
export const AUDIT_REPORT_VERSION = 1;

export interface StackSummary {
  readonly stackName: string;
  readonly displayName: string;
  readonly region: string;
  readonly account: string;
  readonly terminationProtection: boolean;
  readonly resources: number;
}

export interface ResourceTypeCount {
  readonly type: string;
  readonly total: number;
  /** Count per stack name (stacks without the type omitted). */
  readonly byStack: Record<string, number>;
}

/** One check of a derived size against what the templates actually contain. */
export interface CapacityCheck {
  readonly what: string;
  readonly model: string;
  readonly templates: string[];
  readonly agrees: boolean;
}

export interface CapacitySection {
  readonly tier: string;
  readonly regions: string[];
  readonly plan: CapacityPlan;
  readonly perUnitFigures: { name: string; value: number; unit: string; source: string }[];
  readonly checks: CapacityCheck[];
}

export interface AuditReport {
  readonly version: number;
  readonly environment: string;
  readonly stacks: StackSummary[];
  readonly resourceTypes: ResourceTypeCount[];
  readonly statefulResources: StatefulResource[];
  readonly internetExposure: ExposureFinding[];
  readonly iamWildcards: WildcardStatement[];
  readonly acknowledgments: Acknowledgment[];
  readonly kubernetesWorkloads: WorkloadSummary[];
  /** Helm releases the clusters install (their objects are rendered at deploy, so not in kubernetesWorkloads). */
  readonly helmReleases: HelmRelease[];
  /** Kubernetes manifests that could not be parsed (stack/logicalId: error). */
  readonly kubernetesParseErrors: string[];
  /** SNS topics the alarms notify, with their subscriptions. */
  readonly alarmTopics: AlarmTopic[];
  /** Alarm topics of staging or prod that reach nobody. */
  readonly alarmRecipientProblems: string[];
  /** Absent when the environment's configuration is not known (e.g. a fixture). */
  readonly capacity?: CapacitySection;
}

function resourceTypes(stacks: readonly AssemblyStack[]): ResourceTypeCount[] {
  const byType = new Map<string, Record<string, number>>();
  for (const stack of stacks) {
    for (const [, r] of sortedResources(stack.template)) {
      const counts = byType.get(r.Type) ?? {};
      counts[stack.stackName] = (counts[stack.stackName] ?? 0) + 1;
      byType.set(r.Type, counts);
    }
  }
  return [...byType.entries()]
    .map(([type, byStack]) => ({
      type,
      total: Object.values(byStack).reduce((a, b) => a + b, 0),
      byStack: Object.fromEntries(Object.keys(byStack).sort(compare).map((k) => [k, byStack[k]])),
    }))
    .sort((a, b) => compare(a.type, b.type));
}

/** Values of one property over every resource of a type, as sorted unique strings. */
function propertyValues(stacks: readonly AssemblyStack[], type: string, read: (p: any) => unknown): string[] {
  const values = new Set<string>();
  for (const stack of stacks) {
    for (const [, r] of sortedResources(stack.template)) {
      if (r.Type !== type) continue;
      const v = read(r.Properties ?? {});
      if (v !== undefined) values.add(String(v));
    }
  }
  return [...values].sort(compare);
}

/** Autoscaler bounds (`min-max`) per workload in the Kubernetes manifests, by the workload name's last segment. */
function autoscalerBounds(manifests: readonly KubernetesManifest[], workload: string): string[] {
  const bounds = new Set<string>();
  for (const m of manifests) {
    for (const o of m.objects) {
      if (o?.kind !== 'ScaledObject' && o?.kind !== 'HorizontalPodAutoscaler') continue;
      const target = String(o.spec?.scaleTargetRef?.name ?? '');
      if (target !== workload && !target.endsWith(`-${workload}`)) continue;
      bounds.add(`${o.spec?.minReplicaCount ?? o.spec?.minReplicas}-${o.spec?.maxReplicaCount ?? o.spec?.maxReplicas}`);
    }
  }
  return [...bounds].sort(compare);
}

/** Sizes of the model next to what the templates hold, for the resources the model sizes directly. */
function capacityChecks(plan: CapacityPlan, stacks: readonly AssemblyStack[], manifests: readonly KubernetesManifest[]): CapacityCheck[] {
  const check = (what: string, model: string, templates: string[]): CapacityCheck =>
    ({ what, model, templates, agrees: templates.length > 0 && templates.every((t) => t === model) });
  const checks: CapacityCheck[] = [];
  for (const [name, size] of Object.entries(plan.workloads)) {
    const found = autoscalerBounds(manifests, name);
    if (found.length) checks.push(check(`${name} pods (autoscaler min-max)`, `${size.minReplicas}-${size.maxReplicas}`, found));
  }
  const dbClasses = propertyValues(stacks, 'AWS::RDS::DBInstance', (p) => p.DBInstanceClass);
  if (dbClasses.length) checks.push(check('Aurora instance class', `db.${plan.database.instanceClass}`, dbClasses));
  const nodeTypes = propertyValues(stacks, 'AWS::ElastiCache::ReplicationGroup', (p) => p.CacheNodeType);
  if (nodeTypes.length) checks.push(check('ElastiCache node type', plan.cache.nodeType, nodeTypes));
  const shards = propertyValues(stacks, 'AWS::ElastiCache::ReplicationGroup', (p) => p.NumNodeGroups);
  if (shards.length) checks.push(check('ElastiCache shards per region', String(plan.cache.shards), shards));
  if (plan.streaming.mode === 'provisioned') {
    const brokers = propertyValues(stacks, 'AWS::MSK::Cluster', (p) => p.NumberOfBrokerNodes);
    if (brokers.length) checks.push(check('MSK brokers per region', String(plan.streaming.brokers), brokers));
    const types = propertyValues(stacks, 'AWS::MSK::Cluster', (p) => p.BrokerNodeGroupInfo?.InstanceType);
    if (types.length) checks.push(check('MSK broker type', plan.streaming.brokerInstanceType, types));
  } else {
    const serverless = propertyValues(stacks, 'AWS::MSK::ServerlessCluster', (p) => (p.ClusterName ? 'serverless' : 'serverless'));
    if (serverless.length) checks.push(check('MSK mode', 'serverless', serverless));
  }
  return checks;
}

/** Builds the report of one environment from its stacks and (when known) its configuration. */
export function buildAuditReport(env: string, stacks: readonly AssemblyStack[], config?: EnvironmentConfig): AuditReport {
  const sorted = [...stacks].sort((a, b) => compare(a.stackName, b.stackName));
  const manifests = kubernetesManifests(sorted);
  const topics = alarmTopics(sorted);
  // Staging and prod alarms must reach someone; without a configuration (a fixture), the name decides.
  const recipientsRequired = config ? config.kind === 'staging' || config.kind === 'prod' : env === 'staging' || env === 'prod';
  let capacity: CapacitySection | undefined;
  if (config) {
    const plan = deriveCapacity(config.tier, config.regions.length);
    capacity = {
      tier: config.tier,
      regions: config.regions.map((r) => r.region),
      plan,
      perUnitFigures: Object.entries(PER_UNIT).map(([name, f]) => ({ name, value: f.value, unit: f.unit, source: f.source })),
      checks: capacityChecks(plan, sorted, manifests),
    };
  }
  return {
    version: AUDIT_REPORT_VERSION,
    environment: env,
    stacks: sorted.map((s) => ({
      stackName: s.stackName,
      displayName: s.displayName,
      region: s.region,
      account: s.account,
      terminationProtection: s.terminationProtection,
      resources: Object.keys(s.template.Resources ?? {}).length,
    })),
    resourceTypes: resourceTypes(sorted),
    statefulResources: statefulResources(sorted),
    internetExposure: internetExposure(sorted, manifests),
    iamWildcards: wildcardStatements(sorted),
    acknowledgments: acknowledgments(sorted),
    kubernetesWorkloads: workloadSummaries(manifests),
    helmReleases: helmReleases(sorted),
    kubernetesParseErrors: manifests.filter((m) => m.parseError).map((m) => `${m.stack}/${m.logicalId}: ${m.parseError}`),
    alarmTopics: topics,
    alarmRecipientProblems: alarmRecipientProblems(env, topics, recipientsRequired),
    ...(capacity ? { capacity } : {}),
  };
}

/** The report as pretty JSON with a trailing newline. */
export function renderAuditJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** A Markdown table cell: no pipes or newlines breaking the row. */
function cell(value: unknown): string {
  const text = Array.isArray(value) ? value.join(', ') : String(value ?? '');
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ') || '-';
}

function table(headers: string[], rows: unknown[][]): string[] {
  if (rows.length === 0) return ['_None._'];
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

/** The report as Markdown: one section per topic, tables sorted like the JSON. */
export function renderAuditMarkdown(report: AuditReport): string {
  const out: string[] = [];
  const section = (title: string, intro: string, body: string[]) => out.push('', `## ${title}`, '', intro, '', ...body);
  out.push(`# Audit report: ${report.environment}`, '',
    `Generated from the synthesized templates by \`npm run synth\` (tools/audit-report.ts); report format ${report.version}. ` +
    'Placeholders such as `${Ref:Logical}` or `${AWS::Region}` are values CloudFormation resolves at deploy time.', '',
    `Stacks: ${report.stacks.length}; resources: ${report.stacks.reduce((a, s) => a + s.resources, 0)}; ` +
    `stateful: ${report.statefulResources.length}; internet exposure findings: ${report.internetExposure.length}; ` +
    `wildcard IAM statements: ${report.iamWildcards.length}; acknowledgments: ${report.acknowledgments.length}; ` +
    `Kubernetes workloads: ${report.kubernetesWorkloads.length}; Helm releases: ${report.helmReleases.length}; ` +
    `alarm topics: ${report.alarmTopics.length}, without subscribers where required: ${report.alarmRecipientProblems.length}.`,
    ...(report.alarmRecipientProblems.length ? ['', ...report.alarmRecipientProblems.map((p) => `- **Finding: ${p}**`)] : []));

  section('Stacks', 'Every stack of the environment.', table(
    ['stack', 'construct path', 'region', 'account', 'termination protection', 'resources'],
    report.stacks.map((s) => [s.stackName, s.displayName, s.region, s.account, s.terminationProtection ? 'yes' : 'no', s.resources]),
  ));

  const stackNames = report.stacks.map((s) => s.stackName);
  section('Resources by type and stack', 'Count of every resource type, per stack.', table(
    ['type', 'total', ...stackNames],
    report.resourceTypes.map((t) => [t.type, t.total, ...stackNames.map((s) => t.byStack[s] ?? '')]),
  ));

  section('Stateful resources',
    'Resources that hold data or identity. DeletionPolicy decides what a stack deletion does; UpdateReplacePolicy what a ' +
    'replacement does. The stateful-resource guard (test/app/stateful-guard.test.ts) fails when one of them would be removed, ' +
    'renamed or retyped.',
    table(
      ['stack', 'logical id', 'type', 'DeletionPolicy', 'UpdateReplacePolicy', 'deletion protection', 'encryption', 'backup', 'on delete', 'construct path'],
      report.statefulResources.map((r) => [r.stack, r.logicalId, r.type, r.deletionPolicy + (r.policiesExplicit ? '' : ' (default)'),
        r.updateReplacePolicy, r.deletionProtection, r.encryption, r.backup, r.onDelete, r.path]),
    ));

  section('Reachable from the internet',
    'CloudFront, internet-facing load balancers (CloudFormation and Kubernetes), security groups open to 0.0.0.0/0 or ::/0, ' +
    'public subnets and internet-gateway routes, Lambda function URLs, public API endpoints, public databases and buckets. ' +
    'Kubernetes load balancers with an internal scheme are listed too (kind `k8s-internal-load-balancer`), so that every ' +
    'load balancer the clusters request is accounted for.',
    table(['stack', 'kind', 'logical id / object', 'type', 'detail', 'path'],
      report.internetExposure.map((e) => [e.stack, e.kind, e.logicalId, e.type, e.detail, e.path])));

  section('IAM statements with wildcards',
    'Statements whose action or resource contains `*`, in identity and resource policies. Deny statements with wildcards ' +
    'restrict access (for example TLS-only bucket policies).',
    table(['stack', 'policy logical id', 'policy type', 'statement', 'effect', 'principals', 'wildcard in', 'actions', 'resources', 'path'],
      report.iamWildcards.map((w) => [w.stack, w.policyLogicalId, w.policyType,
        `${w.policyName ? `${w.policyName} ` : ''}#${w.statementIndex}${w.sid ? ` (${w.sid})` : ''}`,
        w.effect, w.principals.length ? w.principals : 'the policy\'s identity', w.wildcardIn, w.actions, w.resources, w.path])));

  section('Security-check acknowledgments',
    'Every cdk-nag finding acknowledged in code, with its reason, as recorded in template metadata (`cdk_nag.rules_to_suppress`).',
    table(['stack', 'construct path', 'rule', 'applies to', 'reason'],
      report.acknowledgments.map((a) => [a.stack, a.path, a.rule, a.appliesTo.length ? a.appliesTo : 'whole rule', a.reason])));

  section('Kubernetes workloads',
    'Security summary of every workload in the manifests the clusters receive (`Custom::AWSCDK-EKS-KubernetesResource`).',
    report.kubernetesWorkloads.length === 0 && report.kubernetesParseErrors.length === 0 ? ['_None in this environment._'] : [
      ...table(['stack', 'workload', 'namespace (PSS enforce)', 'service account', 'containers', 'network policies', 'PDB', 'autoscaling', 'gate violations'],
        report.kubernetesWorkloads.map((w) => [w.stack, `${w.kind}/${w.name}`, `${w.namespace} (${w.podSecurityEnforce})`,
          `${w.serviceAccount}, token automount ${w.automountServiceAccountToken}`,
          w.containers.map((c) => `${c.init ? 'init ' : ''}${c.name}: ${c.image}; nonRoot=${c.runAsNonRoot}${c.runAsUser !== undefined ? ` uid=${c.runAsUser}` : ''}; ` +
            `readOnlyRoot=${c.readOnlyRootFilesystem}; privEsc=${c.allowPrivilegeEscalation}; privileged=${c.privileged}; ` +
            `drop=[${c.capabilitiesDropped.join(',')}] add=[${c.capabilitiesAdded.join(',')}]; seccomp=${c.seccompProfile}; ` +
            `requests ${c.requests}; limits ${c.limits}; probes ${c.probes.join('/') || 'none'}`).join(' ; ') +
            (w.hostNamespaces.length ? ` ; host namespaces: ${w.hostNamespaces.join(', ')}` : ''),
          w.networkPolicies.length ? w.networkPolicies : 'NONE', w.podDisruptionBudgets.length ? w.podDisruptionBudgets : 'none',
          w.autoscaling.length ? w.autoscaling : 'none', w.policyViolations.length ? w.policyViolations : 'none'])),
      ...(report.kubernetesParseErrors.length ? ['', 'Manifests that could not be read:', '', ...report.kubernetesParseErrors.map((e) => `- ${e}`)] : []),
    ]);

  section('Helm releases',
    'Charts the clusters install through `Custom::AWSCDK-EKS-HelmChart` (for example KEDA). Their objects are rendered by Helm ' +
    'at deploy time, so they are not in the workload table above: review the chart version.',
    table(['stack', 'release', 'chart', 'repository', 'version', 'namespace', 'values (top-level keys)'],
      report.helmReleases.map((h) => [h.stack, h.release, h.chart, h.repository, h.version,
        `${h.namespace}${h.createNamespace ? ' (created)' : ''}`, h.valueKeys.length ? h.valueKeys : 'none'])));

  section('Alarm notifications',
    'Every SNS topic the CloudWatch alarms notify, with its subscriptions (e-mail subscriptions act only once confirmed). ' +
    'In staging and prod a topic without subscribers is a finding: its alarms reach nobody.',
    [
      ...table(['stack', 'region', 'topic', 'alarms', 'subscriptions', 'path'],
        report.alarmTopics.map((t) => [t.stack, t.region, t.topic, t.alarms,
          t.subscriptions.length ? t.subscriptions : (t.definedHere ? 'NONE' : 'topic defined elsewhere'), t.path])),
      ...(report.alarmRecipientProblems.length ? ['', ...report.alarmRecipientProblems.map((p) => `- ${p}`)] : []),
    ]);

  if (report.capacity) {
    const { plan } = report.capacity;
    const w = plan.workloads;
    section('Capacity model',
      `Tier \`${report.capacity.tier}\` over ${report.capacity.regions.length} region(s) (${report.capacity.regions.join(', ')}): ` +
      `${plan.target.concurrentUsers} concurrent users, ${plan.target.messagesPerSecond} messages/s, ` +
      `${plan.target.apiRequestsPerSecond} API requests/s, ${plan.target.storageTerabytes} TB. Sizes from lib/capacity/capacity-model.ts.`,
      [
        ...table(['component', 'size', 'derivation'], [
          ...(Object.keys(w) as (keyof typeof w)[]).map((name) => [`${name} pods`,
            `${w[name].minReplicas}-${w[name].maxReplicas} (tier load ${w[name].podsForTierLoad}); cpu ${w[name].cpuRequestMillis}m-${w[name].cpuLimitMillis}m, ${w[name].memoryMiB} MiB`,
            w[name].derivation]),
          ['Redis (per region)', `${plan.cache.shards} x ${plan.cache.nodeType}, +${plan.cache.replicasPerShard} replicas per shard, multi-AZ ${plan.cache.multiAz}`, plan.cache.derivation],
          ['Kafka (per region)', plan.streaming.mode === 'serverless' ? 'MSK Serverless'
            : `${plan.streaming.brokers} x ${plan.streaming.brokerInstanceType}, ${plan.streaming.volumeGiB} GiB (max ${plan.streaming.maxVolumeGiB})`, plan.streaming.derivation],
          ['Kafka partitions', Object.entries(plan.streaming.partitions).map(([t, n]) => `${t} ${n}`).join(', '),
            `replication factor ${plan.streaming.replicationFactor}, retention ${Object.entries(plan.streaming.retentionHours).map(([t, h]) => `${t} ${h} h`).join(', ')}, dead letters ${plan.streaming.dlqRetentionHours} h`],
          ['Aurora (per region)', `db.${plan.database.instanceClass}, ${plan.database.readers} reader(s) (max ${plan.database.maxReaders}), max_connections ${plan.database.maxConnections}`,
            plan.database.derivation],
          ['Aurora storage (hot data, every region)', `${plan.storage.totalHotTerabytes} TB of ${plan.storage.usableTerabytes} TB usable per volume` +
            (plan.storage.fitsOneVolume ? '' : ` (OVER one volume; longest retention that fits: ${plan.storage.maxRetentionMonths} months)`),
            plan.storage.derivation],
        ]),
        '', 'The model against the templates:', '',
        ...table(['what', 'model', 'templates', 'agrees'], report.capacity.checks.map((c) => [c.what, c.model, c.templates, c.agrees ? 'yes' : 'NO'])),
        '', 'Per-unit figures:', '',
        ...table(['figure', 'value', 'unit', 'source'], report.capacity.perUnitFigures.map((f) => [f.name, f.value, f.unit, f.source])),
      ]);
  }
  return `${out.join('\n')}\n`;
}
