import { ConfigProblem, ConfigValidationError } from './config-error';
import { CapacityTierName, EnvironmentConfig, KafkaReplicationMode, RegionConfig } from './environment-config';
import {
  ENVIRONMENT_NAME_PATTERN,
  KNOWN_ENVIRONMENT_NAMES,
  LONG_LIVED_ENVIRONMENTS,
  PREVIEW_NAME_PATTERN,
  previewEnvironment,
} from './environments';
import { defaultZones } from './regions';
import { validateEnvironment } from './validate-config';

/** Environments synthesized when `-c env` is not given. */
export const DEFAULT_SELECTION = ['dev', 'staging', 'prod'] as const;

/**
 * Context keys `bin/` understands (all optional):
 * - `env`: comma-separated environment names (default dev,staging,prod);
 * - `account`: account id for every selected environment;
 * - `<env>:account`, `<env>:tier`, `<env>:regions` (comma list, primary first), `<env>:activeApiRegion`,
 *   `<env>:edgeDomainNames` (comma list) with `<env>:edgeCertificateArn` (ACM, us-east-1),
 *   `<env>:alarmEmails`, `<env>:adminRoleArns`, `<env>:publicEndpointCidrs` (comma lists),
 *   `<env>:kafkaReplication` (`off`, `prepare` or `on`).
 */
export type ContextReader = (key: string) => unknown;

/** Context values arrive as strings from `-c` and as JSON values from cdk.json; accept both. */
function asList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter(Boolean);
  return String(value).split(',').map((v) => v.trim()).filter(Boolean);
}

function asString(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value).trim();
}

/** The environment names selected by `-c env=...`; problems for unknown or malformed names. */
export function selectEnvironmentNames(envContext: unknown): { names: string[]; problems: ConfigProblem[] } {
  const requested = asList(envContext) ?? [...DEFAULT_SELECTION];
  const problems: ConfigProblem[] = [];
  const names: string[] = [];
  if (requested.length === 0) {
    problems.push({ field: '-c env', value: String(envContext), allowed: `a comma-separated list of ${KNOWN_ENVIRONMENT_NAMES.join(', ')}` });
  }
  for (const name of requested) {
    if (names.includes(name)) continue;
    if (name in LONG_LIVED_ENVIRONMENTS || PREVIEW_NAME_PATTERN.test(name)) names.push(name);
    else if (!ENVIRONMENT_NAME_PATTERN.test(name) || /^pr-/.test(name)) {
      problems.push({ field: '-c env', value: name, allowed: `a well-formed name: ${KNOWN_ENVIRONMENT_NAMES.join(', ')} (pr-<number> is 1 to 999999, no leading zero)` });
    } else {
      problems.push({ field: '-c env', value: name, allowed: `a known environment: ${KNOWN_ENVIRONMENT_NAMES.join(', ')}` });
    }
  }
  return { names, problems };
}

/** Regions from a `<env>:regions` override: zones and CIDRs follow the environment's existing numbering. */
function regionsFromOverride(base: EnvironmentConfig, regions: string[]): RegionConfig[] {
  const template = base.regions[0];
  const zoneCount = template.availabilityZones.length;
  const [a, b] = template.vpcCidr.split('.').map(Number);
  return regions.map((region, i) => ({
    region,
    vpcCidr: `${a}.${b + i}.0.0/16`,
    availabilityZones: defaultZones(region, zoneCount),
    natGateways: Math.min(template.natGateways, zoneCount),
  }));
}

/** Applies the context overrides to one environment's defaults. */
function applyOverrides(base: EnvironmentConfig, read: ContextReader): EnvironmentConfig {
  const key = (k: string) => read(`${base.name}:${k}`);
  const regions = asList(key('regions'));
  const activeApiRegion = asString(key('activeApiRegion'));
  const edgeDomainNames = asList(key('edgeDomainNames'));
  const edgeCertificateArn = asString(key('edgeCertificateArn'));
  return {
    ...base,
    account: asString(key('account')) ?? asString(read('account')) ?? base.account,
    tier: (asString(key('tier')) as CapacityTierName | undefined) ?? base.tier,
    regions: regions ? regionsFromOverride(base, regions) : base.regions,
    edge: {
      ...base.edge,
      ...(activeApiRegion ? { activeApiRegion } : {}),
      ...(edgeDomainNames ? { domainNames: edgeDomainNames } : {}),
      ...(edgeCertificateArn ? { certificateArn: edgeCertificateArn } : {}),
    },
    alarmEmails: asList(key('alarmEmails')) ?? base.alarmEmails,
    kafkaReplication: (asString(key('kafkaReplication')) as KafkaReplicationMode | undefined) ?? base.kafkaReplication,
    clusterAccess: {
      ...base.clusterAccess,
      adminRoleArns: asList(key('adminRoleArns')) ?? base.clusterAccess.adminRoleArns,
      publicEndpointCidrs: asList(key('publicEndpointCidrs')) ?? base.clusterAccess.publicEndpointCidrs,
    },
  };
}

/**
 * Resolves the selected environments with their overrides and validates them all. Throws one
 * `ConfigValidationError` listing every problem of every environment.
 */
export function resolveEnvironments(read: ContextReader): EnvironmentConfig[] {
  const { names, problems } = selectEnvironmentNames(read('env'));
  const configs = names.map((name) => {
    const base = LONG_LIVED_ENVIRONMENTS[name] ?? previewEnvironment(name);
    return applyOverrides(base, read);
  });
  for (const config of configs) problems.push(...validateEnvironment(config));
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return configs;
}
