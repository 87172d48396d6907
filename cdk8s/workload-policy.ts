/**
 * The Kubernetes gate the manifests pass: Pod Security Standards "restricted" plus the usual workload rules
 * (requests and limits, three probes, immutable images, a PDB, zone spread) and the autoscaling/PDB
 * consistency (a PDB never blocks eviction at the HPA minimum; no `replicas` on autoscaled Deployments).
 *
 * Works on plain manifest objects (what `Chart.toJson()` or a YAML file holds), so tests, the app and the
 * audit report can all run it. Returns one line per violation; an empty list means compliant.
 */

type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; spec?: any };

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const IMMUTABLE_IMAGE = /(@sha256:[a-f0-9]{64}$)|(:[a-f0-9]{64}$)/;

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function podTemplate(o: Manifest): { spec: any; labels: Record<string, string> } | undefined {
  if (o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet') {
    return { spec: o.spec?.template?.spec, labels: o.spec?.template?.metadata?.labels ?? {} };
  }
  if (o.kind === 'CronJob') {
    return { spec: o.spec?.jobTemplate?.spec?.template?.spec, labels: o.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {} };
  }
  return undefined;
}

/** Checks every workload in `manifests`; returns the violations (empty when all pass). */
export function checkWorkloadPolicies(manifests: readonly Manifest[]): string[] {
  const v: string[] = [];
  const namespaces = new Map(manifests.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata?.name, o]));
  const pdbs = manifests.filter((o) => o.kind === 'PodDisruptionBudget');
  const scaled = manifests.filter((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler');

  for (const o of manifests) {
    const pod = podTemplate(o);
    if (!pod) continue;
    const id = `${o.kind}/${o.metadata?.name}`;
    const spec = pod.spec ?? {};
    const ns = namespaces.get(o.metadata?.namespace);
    if (ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
      v.push(`${id}: namespace ${o.metadata?.namespace} does not enforce pod-security restricted`);
    }
    const podSc = spec.securityContext ?? {};
    for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[flag]) v.push(`${id}: ${flag} is set`);
    for (const vol of spec.volumes ?? []) {
      const type = Object.keys(vol).find((k) => k !== 'name');
      if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) v.push(`${id}: volume ${vol.name} of type ${type} is not allowed by restricted`);
    }
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    if ((spec.containers ?? []).length === 0) v.push(`${id}: no containers`);
    for (const c of containers) {
      const cid = `${id} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) v.push(`${cid}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? podSc.runAsUser) === 0) v.push(`${cid}: runs as UID 0`);
      const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${cid}: seccompProfile is ${seccomp ?? 'unset'} (RuntimeDefault or Localhost required)`);
      if (sc.allowPrivilegeEscalation !== false) v.push(`${cid}: allowPrivilegeEscalation is not false`);
      if (sc.privileged) v.push(`${cid}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${cid}: capabilities.drop does not include ALL`);
      const added = (sc.capabilities?.add ?? []).filter((cap: string) => cap !== 'NET_BIND_SERVICE');
      if (added.length) v.push(`${cid}: adds capabilities ${added.join(', ')}`);
      if (sc.readOnlyRootFilesystem !== true) v.push(`${cid}: readOnlyRootFilesystem is not true`);
      for (const p of c.ports ?? []) if (p.hostPort) v.push(`${cid}: hostPort ${p.hostPort}`);
      if (typeof c.image !== 'string' || /:latest$/.test(c.image) || !IMMUTABLE_IMAGE.test(c.image)) {
        v.push(`${cid}: image ${c.image} is not pinned to a digest or content-hash tag`);
      }
      for (const kind of ['requests', 'limits']) {
        for (const res of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[res] === undefined) v.push(`${cid}: resources.${kind}.${res} missing`);
        }
      }
    }
    if (o.kind !== 'CronJob') {
      for (const c of spec.containers ?? []) {
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          if (!c[probe]) v.push(`${id} container ${c.name}: ${probe} missing`);
        }
      }
      const zoneSpread = (spec.topologySpreadConstraints ?? []).find((t: any) => t.topologyKey === 'topology.kubernetes.io/zone');
      if (!zoneSpread) v.push(`${id}: no topologySpreadConstraint over topology.kubernetes.io/zone`);
      else if (zoneSpread.maxSkew !== 1) v.push(`${id}: zone spread maxSkew is ${zoneSpread.maxSkew} (1 expected)`);
      const pdb = pdbs.find((p) => p.metadata?.namespace === o.metadata?.namespace && matches(p.spec?.selector?.matchLabels, pod.labels));
      if (!pdb) v.push(`${id}: no PodDisruptionBudget selects its pods`);
      const hpa = scaled.find(
        (s) => s.metadata?.namespace === o.metadata?.namespace && s.spec?.scaleTargetRef?.name === o.metadata?.name && (s.spec?.scaleTargetRef?.kind ?? 'Deployment') === o.kind,
      );
      if (hpa && o.spec?.replicas !== undefined) v.push(`${id}: sets replicas although ${hpa.kind}/${hpa.metadata?.name} scales it`);
      if (hpa && pdb) {
        const min = hpa.kind === 'ScaledObject' ? (hpa.spec.minReplicaCount ?? 0) : (hpa.spec.minReplicas ?? 1);
        const max = hpa.kind === 'ScaledObject' ? hpa.spec.maxReplicaCount : hpa.spec.maxReplicas;
        if (typeof max === 'number' && max < min) v.push(`${hpa.kind}/${hpa.metadata?.name}: max ${max} below min ${min}`);
        const allowed = disruptionsAllowed(pdb.spec, min);
        if (allowed < 1) v.push(`PodDisruptionBudget/${pdb.metadata?.name}: allows ${allowed} disruptions at the autoscaling minimum of ${min} (blocks node drains)`);
      }
    }
  }
  return v;
}

/** Pods a PDB lets go at `replicas` healthy pods (Kubernetes rounds percentages up). */
export function disruptionsAllowed(pdbSpec: { minAvailable?: number | string; maxUnavailable?: number | string }, replicas: number): number {
  const resolve = (x: number | string) => (typeof x === 'number' ? x : Math.ceil((Number(x.replace('%', '')) / 100) * replicas));
  if (pdbSpec.maxUnavailable !== undefined) return Math.min(replicas, resolve(pdbSpec.maxUnavailable));
  if (pdbSpec.minAvailable !== undefined) return Math.max(0, replicas - resolve(pdbSpec.minAvailable));
  return replicas;
}
