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
