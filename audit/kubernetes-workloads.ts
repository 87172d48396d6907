/**
 * Kubernetes objects inside the synthesized templates: the cdk8s charts arrive as the `Manifest` property (a JSON
 * string, possibly an `Fn::Join` with deploy-time values) of `Custom::AWSCDK-EKS-KubernetesResource` resources.
 * This module parses them and summarises each workload's security settings for the audit report.
 */
import { checkWorkloadPolicies } from '../cdk8s/workload-policy';
import { AssemblyStack, sortedResources } from './cloud-assembly';
import { manifestText, renderValue } from './render-value';
import { compare } from './stateful-resources';

export const KUBERNETES_RESOURCE_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';
export const HELM_CHART_TYPE = 'Custom::AWSCDK-EKS-HelmChart';

/** One Helm release a cluster receives (`Custom::AWSCDK-EKS-HelmChart`): its objects are not in the templates. */
export interface HelmRelease {
  readonly stack: string;
  readonly logicalId: string;
  readonly release: string;
  readonly chart: string;
  /** Chart repository URL (`oci://...` included), or `chart asset` for a chart bundled from this repository. */
  readonly repository: string;
  /** Chart version, or `unpinned (latest at deploy)` when none is given. */
  readonly version: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  /** Top-level keys of the values given to the chart, sorted. */
  readonly valueKeys: string[];
}

/** Every Helm release in the stacks, sorted by stack, namespace and release. */
export function helmReleases(stacks: readonly AssemblyStack[]): HelmRelease[] {
  const found: HelmRelease[] = [];
  for (const stack of stacks) {
    for (const [logicalId, r] of sortedResources(stack.template)) {
      if (r.Type !== HELM_CHART_TYPE) continue;
      const p = r.Properties ?? {};
      let valueKeys: string[] = [];
      if (typeof p.Values === 'string') {
        try {
          valueKeys = Object.keys(JSON.parse(p.Values) ?? {}).sort();
        } catch {
          valueKeys = ['(values not JSON)'];
        }
      } else if (p.Values !== undefined) {
        valueKeys = ['(deploy-time values)'];
      }
      found.push({
        stack: stack.stackName,
        logicalId,
        release: renderValue(p.Release ?? logicalId),
        chart: renderValue(p.Chart ?? '(chart asset)'),
        repository: p.Repository !== undefined ? renderValue(p.Repository) : p.ChartAssetURL !== undefined ? `chart asset ${renderValue(p.ChartAssetURL)}` : 'none',
        version: p.Version !== undefined ? renderValue(p.Version) : 'unpinned (latest at deploy)',
        namespace: renderValue(p.Namespace ?? 'default'),
        createNamespace: p.CreateNamespace === true,
        valueKeys,
      });
    }
  }
  return found.sort((a, b) => compare(a.stack, b.stack) || compare(a.namespace, b.namespace) || compare(a.release, b.release));
}

/** The Kubernetes objects of one custom resource. */
export interface KubernetesManifest {
  readonly stack: string;
  readonly logicalId: string;
  readonly objects: any[];
}

/** Every Kubernetes manifest in the stacks; a manifest that does not parse is reported with `parseError`. */
export function kubernetesManifests(stacks: readonly AssemblyStack[]): (KubernetesManifest & { parseError?: string })[] {
  const found: (KubernetesManifest & { parseError?: string })[] = [];
  for (const stack of stacks) {
    for (const [logicalId, r] of sortedResources(stack.template)) {
      if (r.Type !== KUBERNETES_RESOURCE_TYPE) continue;
      const text = manifestText(r.Properties?.Manifest);
      if (text === undefined) {
        found.push({ stack: stack.stackName, logicalId, objects: [], parseError: 'Manifest is neither a string nor an Fn::Join' });
        continue;
      }
      try {
        const parsed = JSON.parse(text);
        found.push({ stack: stack.stackName, logicalId, objects: Array.isArray(parsed) ? parsed : [parsed] });
      } catch (error) {
        found.push({ stack: stack.stackName, logicalId, objects: [], parseError: (error as Error).message });
      }
    }
  }
  return found;
}

/** One container's security settings. */
export interface ContainerSummary {
  readonly name: string;
  readonly init: boolean;
  readonly image: string;
  readonly runAsNonRoot: boolean;
  readonly runAsUser?: number;
  readonly readOnlyRootFilesystem: boolean;
  readonly allowPrivilegeEscalation: boolean;
  readonly privileged: boolean;
  readonly capabilitiesDropped: string[];
  readonly capabilitiesAdded: string[];
  readonly seccompProfile: string;
  readonly requests: string;
  readonly limits: string;
  readonly probes: string[];
}

/** One workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) with its security summary. */
export interface WorkloadSummary {
  readonly stack: string;
  readonly logicalId: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** The namespace's `pod-security.kubernetes.io/enforce` level, `none` when unset or the namespace is elsewhere. */
  readonly podSecurityEnforce: string;
  readonly serviceAccount: string;
  readonly automountServiceAccountToken: string;
  readonly hostNamespaces: string[];
  readonly containers: ContainerSummary[];
  /** NetworkPolicies in the namespace whose podSelector selects this workload's pods (or all pods). */
  readonly networkPolicies: string[];
  readonly podDisruptionBudgets: string[];
  /** HPA or KEDA ScaledObject bounds targeting this workload, e.g. `ScaledObject/api 3-50`. */
  readonly autoscaling: string[];
  /** Violations of the project's workload gate (cdk8s/workload-policy.ts) for this workload. */
  readonly policyViolations: string[];
}

function podOf(o: any): { spec: any; labels: Record<string, string> } | undefined {
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o?.kind)) {
    return { spec: o.spec?.template?.spec ?? {}, labels: o.spec?.template?.metadata?.labels ?? {} };
  }
  if (o?.kind === 'CronJob') {
    return { spec: o.spec?.jobTemplate?.spec?.template?.spec ?? {}, labels: o.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {} };
  }
  if (o?.kind === 'Pod') return { spec: o.spec ?? {}, labels: o.metadata?.labels ?? {} };
  return undefined;
}

function selects(selector: any, labels: Record<string, string>): boolean {
  const match = selector?.matchLabels ?? {};
  const expressions: any[] = selector?.matchExpressions ?? [];
  return Object.entries(match).every(([k, v]) => labels[k] === v) &&
    expressions.every((e) => {
      const values: string[] = e.values ?? [];
      if (e.operator === 'In') return values.includes(labels[e.key]);
      if (e.operator === 'NotIn') return !values.includes(labels[e.key]);
      if (e.operator === 'Exists') return e.key in labels;
      if (e.operator === 'DoesNotExist') return !(e.key in labels);
      return false;
    });
}

const quantities = (r: Record<string, string> | undefined) =>
  r ? Object.keys(r).sort().map((k) => `${k}=${r[k]}`).join(', ') : 'none';

function containerSummary(c: any, podSc: any, init: boolean): ContainerSummary {
  const sc = c.securityContext ?? {};
  return {
    name: String(c.name),
    init,
    image: String(c.image),
    runAsNonRoot: (sc.runAsNonRoot ?? podSc.runAsNonRoot) === true,
    ...((sc.runAsUser ?? podSc.runAsUser) !== undefined ? { runAsUser: sc.runAsUser ?? podSc.runAsUser } : {}),
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    allowPrivilegeEscalation: sc.allowPrivilegeEscalation !== false,
    privileged: sc.privileged === true,
    capabilitiesDropped: [...(sc.capabilities?.drop ?? [])].sort(),
    capabilitiesAdded: [...(sc.capabilities?.add ?? [])].sort(),
    seccompProfile: String((sc.seccompProfile ?? podSc.seccompProfile)?.type ?? 'unset'),
    requests: quantities(c.resources?.requests),
    limits: quantities(c.resources?.limits),
    probes: ['startupProbe', 'readinessProbe', 'livenessProbe'].filter((p) => c[p] !== undefined),
  };
}

/** A security summary of every workload in the manifests, sorted by namespace, kind and name. */
export function workloadSummaries(manifests: readonly KubernetesManifest[]): WorkloadSummary[] {
  const all = manifests.flatMap((m) => m.objects);
  const namespaces = new Map(all.filter((o) => o?.kind === 'Namespace').map((o) => [o.metadata?.name, o]));
  const summaries: WorkloadSummary[] = [];
  for (const manifest of manifests) {
    const violations = checkWorkloadPolicies(manifest.objects);
    for (const o of manifest.objects) {
      const pod = podOf(o);
      if (!pod) continue;
      const namespace = String(o.metadata?.namespace ?? 'default');
      const name = String(o.metadata?.name);
      const inNamespace = (kind: string) => all.filter((x) => x?.kind === kind && (x.metadata?.namespace ?? 'default') === namespace);
      const spec = pod.spec;
      const podSc = spec.securityContext ?? {};
      const id = `${o.kind}/${name}`;
      summaries.push({
        stack: manifest.stack,
        logicalId: manifest.logicalId,
        kind: String(o.kind),
        namespace,
        name,
        podSecurityEnforce: namespaces.get(namespace)?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] ?? 'none',
        serviceAccount: String(spec.serviceAccountName ?? 'default'),
        automountServiceAccountToken: spec.automountServiceAccountToken === undefined ? 'default (true)' : String(spec.automountServiceAccountToken),
        hostNamespaces: ['hostNetwork', 'hostPID', 'hostIPC'].filter((f) => spec[f] === true),
        containers: [
          ...(spec.initContainers ?? []).map((c: any) => containerSummary(c, podSc, true)),
          ...(spec.containers ?? []).map((c: any) => containerSummary(c, podSc, false)),
        ],
        networkPolicies: inNamespace('NetworkPolicy').filter((np) => selects(np.spec?.podSelector, pod.labels))
          .map((np) => String(np.metadata?.name)).sort(),
        podDisruptionBudgets: inNamespace('PodDisruptionBudget').filter((pdb) => pdb.spec?.selector && selects(pdb.spec.selector, pod.labels))
          .map((pdb) => `${pdb.metadata?.name} (${pdb.spec?.minAvailable !== undefined ? `minAvailable ${pdb.spec.minAvailable}` : `maxUnavailable ${pdb.spec?.maxUnavailable}`})`).sort(),
        autoscaling: [...inNamespace('HorizontalPodAutoscaler'), ...inNamespace('ScaledObject')]
          .filter((a) => a.spec?.scaleTargetRef?.name === name)
          .map((a) => `${a.kind}/${a.metadata?.name} ${a.spec?.minReplicas ?? a.spec?.minReplicaCount ?? '?'}-${a.spec?.maxReplicas ?? a.spec?.maxReplicaCount ?? '?'}`).sort(),
        policyViolations: violations.filter((v) => v === id || v.startsWith(`${id}:`) || v.startsWith(`${id} `)).sort(),
      });
    }
  }
  return summaries.sort((a, b) => compare(a.stack, b.stack) || compare(a.namespace, b.namespace) || compare(a.kind, b.kind) || compare(a.name, b.name));
}
