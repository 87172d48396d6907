/**
 * The backend's environment as the platform stacks wire it, read from the Kubernetes manifests in the synthesized
 * templates (the test assembly made once by globalSetup): which region relays the global outbox, and the realtime
 * connection target derived from the capacity model.
 */
import { stacksOfEnvironment } from '../../audit/cloud-assembly';
import { kubernetesManifests } from '../../audit/kubernetes-workloads';
import { PER_UNIT } from '../../lib/capacity/per-unit-figures';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from '../support/synthesized-app';

/** Per environment and region: the backend chart's objects of that region's platform stack. */
const chartObjects: Record<string, Record<string, any[]>> = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => {
  const stacks = stacksOfEnvironment(TEST_ASSEMBLY_DIR, env);
  const byRegion: Record<string, any[]> = {};
  for (const m of kubernetesManifests(stacks)) {
    if (!m.objects.some((o) => o?.kind === 'Deployment' && o.metadata?.name === 'connecthub-worker')) continue;
    const region = stacks.find((s) => s.stackName === m.stack)!.region;
    byRegion[region] = m.objects;
  }
  return [env, byRegion];
}));

const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const envOf = (objects: any[], deployment: string): Record<string, string> =>
  Object.fromEntries(find(objects, 'Deployment', deployment).spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));

test('only the primary region\'s worker relays the outbox; workers elsewhere consume their regional topics', () => {
  const relay = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => [env, Object.fromEntries(
    Object.entries(chartObjects[env]).map(([region, objects]) => [region, envOf(objects, 'connecthub-worker').OUTBOX_RELAY]),
  )]));
  expect(relay).toEqual({
    dev: { 'us-east-1': 'on' },
    staging: { 'us-east-1': 'on', 'eu-west-1': 'off' },
    prod: { 'us-east-1': 'on', 'eu-west-1': 'off', 'ap-southeast-1': 'off' },
    'pr-7': { 'us-east-1': 'on' },
  });
  // The primary is the environment's first region (the Aurora writer and the Kafka the others replicate).
  for (const env of ['staging', 'prod']) {
    expect(relay[env][LONG_LIVED_ENVIRONMENTS[env].regions[0].region]).toBe('on');
  }
  // Every region's worker still gets its own cluster's brokers to consume from.
  for (const env of TEST_ENVIRONMENTS) {
    for (const objects of Object.values(chartObjects[env])) expect(envOf(objects, 'connecthub-worker').KAFKA_BROKERS).toBeTruthy();
  }
});

test('realtime scales on open WebSockets at 70 % of the capacity model\'s sockets per pod, in every region', () => {
  const perPod = PER_UNIT.realtimeConnectionsPerPod.value;
  for (const env of TEST_ENVIRONMENTS) {
    for (const objects of Object.values(chartObjects[env])) {
      expect(envOf(objects, 'connecthub-realtime').MAX_WS_CONNECTIONS).toBe(String(perPod));
      const trigger = find(objects, 'ScaledObject', 'connecthub-realtime').spec.triggers.find((t: any) => t.name === 'connections-per-pod');
      expect(trigger.metadata.threshold).toBe(String(Math.floor(perPod * 0.7)));
    }
  }
});
