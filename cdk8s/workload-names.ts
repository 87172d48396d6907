/**
 * Names shared by the cdk8s backend chart and the EKS cluster construct (Pod Identity associations,
 * KEDA's own service account). Plain data only: no CDK or cdk8s imports, so either side can use it.
 */

/** The three roles of the one backend image (`CONNECTHUB_ROLE`). */
export const WORKLOADS = ['api', 'realtime', 'worker'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Namespace of the backend workloads. */
export const BACKEND_NAMESPACE = 'connecthub';

/** Kubernetes ServiceAccount of a workload; its Pod Identity association points here. */
export function serviceAccountName(workload: WorkloadName): string {
  return `connecthub-${workload}`;
}

/** Deployment (and Service, PDB, ScaledObject) name of a workload. */
export function workloadObjectName(workload: WorkloadName): string {
  return `connecthub-${workload}`;
}

/** KEDA install: namespace and operator ServiceAccount (the Helm chart's default name). */
export const KEDA_NAMESPACE = 'keda';
export const KEDA_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';

/** The Auto Mode load balancer class: EKS Auto Mode's built-in controller provisions an NLB. */
export const AUTO_MODE_NLB_CLASS = 'eks.amazonaws.com/nlb';

/** The workloads that get their own NLB. */
export type LoadBalancedWorkload = 'api' | 'realtime';

/** Longest Elastic Load Balancing name. */
export const LOAD_BALANCER_NAME_MAX = 32;

const DIRECTIONS: Readonly<Record<string, string>> = {
  north: 'n', south: 's', east: 'e', west: 'w', central: 'c',
  northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw',
};

/** Short code of an AWS region: `us-east-1` -> `use1`, `ap-southeast-1` -> `apse1`, `us-gov-west-1` -> `usgw1`. */
export function regionShortCode(region: string): string {
  const parts = region.split('-');
  return parts.map((p, i) => (i === 0 || /^\d+$/.test(p) ? p : DIRECTIONS[p] ?? p[0])).join('');
}

/** FNV-1a, 32 bits, as 8 hex characters: deterministic, no crypto import (this module is plain data). */
function shortHash(value: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Name of a workload's NLB (`service.beta.kubernetes.io/aws-load-balancer-name`), known at synth so the platform
 * stack can look its ARN up for the CloudFront VPC origin: `connecthub-<env>-<region code>-<api|rt>`, shortened to
 * `ch-…` and then to a hashed environment when longer than the 32 characters Elastic Load Balancing allows.
 * Letters, digits and `-` only; never starts with `internal-`.
 */
export function loadBalancerName(environment: string, region: string, workload: LoadBalancedWorkload): string {
  const role = workload === 'api' ? 'api' : 'rt';
  const rc = regionShortCode(region);
  for (const prefix of ['connecthub', 'ch']) {
    const name = `${prefix}-${environment}-${rc}-${role}`;
    if (name.length <= LOAD_BALANCER_NAME_MAX) return name;
  }
  // ch-<env head>-<8 hex of the whole env>-<rc>-<role>: still unique per environment.
  const room = LOAD_BALANCER_NAME_MAX - `ch--${shortHash(environment)}-${rc}-${role}`.length;
  const head = environment.slice(0, Math.max(0, room)).replace(/-+$/, '');
  return `ch-${head ? `${head}-` : ''}${shortHash(environment)}-${rc}-${role}`;
}
