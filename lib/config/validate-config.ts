import { ConfigProblem } from './config-error';
import { cidrsOverlap, parseCidr } from './cidr';
import { CAPACITY_TIERS, EnvironmentConfig, KAFKA_REPLICATION_MODES, WORKLOADS } from './environment-config';
import { ENVIRONMENT_NAME_PATTERN, PREVIEW_NAME_PATTERN } from './environments';
import { KNOWN_REGION_ZONES } from './regions';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const ACCOUNT_PATTERN = /^\d{12}$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
/** An ACM certificate ARN; groups: partition, region, account. */
const CERTIFICATE_ARN_PATTERN = /^arn:(aws[a-z-]*):acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A lower-case DNS host name (labels of 1-63 letters, digits, dashes), optionally a `*.` wildcard, at most 253 characters. */
const HOSTNAME_PATTERN = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** CloudFront's default quota of alternate domain names per distribution. */
const MAX_DOMAIN_NAMES = 100;
const PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'];
const KINDS = ['dev', 'staging', 'prod', 'preview'];
const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'];

/**
 * Checks one environment and returns every problem found (empty when valid). Rules that protect data are
 * here too: prod keeps and protects its data, a preview environment keeps nothing.
 */
export function validateEnvironment(env: EnvironmentConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string) => `${env.name}.${field}`;
  const add = (field: string, value: unknown, allowed: string) => problems.push({ field: at(field), value, allowed });

  if (!ENVIRONMENT_NAME_PATTERN.test(env.name)) {
    problems.push({ field: 'name', value: env.name, allowed: 'lower-case letters, digits and dashes, starting with a letter, at most 20 characters' });
  }
  if (!KINDS.includes(env.kind)) add('kind', env.kind, `one of ${KINDS.join(', ')}`);
  if (env.kind === 'preview' && !PREVIEW_NAME_PATTERN.test(env.name)) add('name', env.name, 'a preview environment is named pr-<number>');
  if (env.account !== undefined && !ACCOUNT_PATTERN.test(env.account)) add('account', env.account, 'a 12-digit AWS account id');
  if (!(CAPACITY_TIERS as readonly string[]).includes(env.tier)) add('tier', env.tier, `one of ${CAPACITY_TIERS.join(', ')}`);
  if (!CLASSIFICATIONS.includes(env.dataClassification)) add('dataClassification', env.dataClassification, `one of ${CLASSIFICATIONS.join(', ')}`);
  if (!env.costCenter || !/^[\w.:/=+@-]{1,256}$/.test(env.costCenter)) add('costCenter', env.costCenter, 'a non-empty tag value (letters, digits, _ . : / = + - @)');

  if (!Number.isInteger(env.backupRetentionDays) || env.backupRetentionDays < 1 || env.backupRetentionDays > 35) {
    add('backupRetentionDays', env.backupRetentionDays, 'a whole number of days from 1 to 35 (Aurora limit)');
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(env.logRetentionDays)) {
    add('logRetentionDays', env.logRetentionDays, `one of the CloudWatch Logs periods: ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  if (env.kind === 'prod' && !env.retainData) add('retainData', env.retainData, 'true: prod never deletes data with its stacks');
  if (env.kind === 'prod' && !env.terminationProtection) add('terminationProtection', env.terminationProtection, 'true in prod');
  if (env.kind === 'preview' && env.retainData) add('retainData', env.retainData, 'false: preview environments must destroy cleanly');
  if (env.kind === 'prod' && env.clusterAccess.deployerIsClusterAdmin) {
    add('clusterAccess.deployerIsClusterAdmin', true, 'false in prod: grant admins through clusterAccess.adminRoleArns');
  }

  validateRegions(env, add);
  validateKafkaReplication(env, add);

  const edge = env.edge;
  if (!PRICE_CLASSES.includes(edge.priceClass)) add('edge.priceClass', edge.priceClass, `one of ${PRICE_CLASSES.join(', ')}`);
  if (edge.geoRestriction.type !== 'none') {
    const countries = edge.geoRestriction.countries;
    if (countries.length === 0) add('edge.geoRestriction.countries', countries, 'at least one country code for an allow or deny list');
    countries.filter((c) => !COUNTRY_PATTERN.test(c)).forEach((c) => add('edge.geoRestriction.countries', c, 'ISO 3166-1 alpha-2 codes such as US, DE'));
  }
  if (!Number.isInteger(edge.wafRateLimitPer5Minutes) || edge.wafRateLimitPer5Minutes < 10 || edge.wafRateLimitPer5Minutes > 2_000_000_000) {
    add('edge.wafRateLimitPer5Minutes', edge.wafRateLimitPer5Minutes, 'a whole number from 10 to 2,000,000,000 (AWS WAF rate-based rule limits)');
  }
  if (edge.activeApiRegion !== undefined && !env.regions.some((r) => r.region === edge.activeApiRegion)) {
    add('edge.activeApiRegion', edge.activeApiRegion, `one of the environment's regions: ${env.regions.map((r) => r.region).join(', ')}`);
  }
  validateEdgeDomain(env, add);

  env.clusterAccess.adminRoleArns.forEach((arn, i) => {
    if (!ROLE_ARN_PATTERN.test(arn)) add(`clusterAccess.adminRoleArns[${i}]`, arn, 'an IAM role ARN, arn:aws:iam::<account>:role/<name>');
  });
  env.clusterAccess.publicEndpointCidrs.forEach((cidr, i) => {
    const parsed = parseCidr(cidr);
    if (!parsed) add(`clusterAccess.publicEndpointCidrs[${i}]`, cidr, 'an IPv4 CIDR such as 203.0.113.0/24');
    else if (parsed.prefix === 0) add(`clusterAccess.publicEndpointCidrs[${i}]`, cidr, 'a specific range, not the whole internet');
  });
  env.alarmEmails.forEach((email, i) => {
    if (!EMAIL_PATTERN.test(email)) add(`alarmEmails[${i}]`, email, 'an e-mail address');
  });

  for (const [workload, bounds] of Object.entries(env.replicaOverrides ?? {})) {
    if (!(WORKLOADS as readonly string[]).includes(workload)) {
      add(`replicaOverrides.${workload}`, workload, `a workload: ${WORKLOADS.join(', ')}`);
      continue;
    }
    if (!bounds) continue;
    if (!Number.isInteger(bounds.min) || bounds.min < 1) add(`replicaOverrides.${workload}.min`, bounds.min, 'a whole number of at least 1');
    if (!Number.isInteger(bounds.max) || bounds.max > 5000) add(`replicaOverrides.${workload}.max`, bounds.max, 'a whole number of at most 5000');
    if (bounds.min > bounds.max) add(`replicaOverrides.${workload}.min`, bounds.min, `at most max (${bounds.max})`);
  }
  return problems;
}

/**
 * Custom domain of the distribution: host names and an ACM certificate, both or neither. The certificate must be in
 * us-east-1 (CloudFront uses no other region's) and in the environment's account when that is known.
 */
function validateEdgeDomain(env: EnvironmentConfig, add: (field: string, value: unknown, allowed: string) => void): void {
  const { domainNames, certificateArn } = env.edge;
  const names = domainNames ?? [];
  if (names.length > 0 && certificateArn === undefined) {
    add('edge.certificateArn', certificateArn, `an ACM certificate ARN in us-east-1 covering edge.domainNames (${names.join(', ')}); custom domain names need their own certificate`);
  }
  if (certificateArn !== undefined && names.length === 0) {
    add('edge.domainNames', names, 'at least one host name the certificate covers (edge.certificateArn is set); or leave both unset for the default *.cloudfront.net name');
  }
  if (names.length > MAX_DOMAIN_NAMES) add('edge.domainNames', names.length, `at most ${MAX_DOMAIN_NAMES} names (CloudFront's alternate domain name quota)`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (!HOSTNAME_PATTERN.test(name)) {
      add(`edge.domainNames[${i}]`, name, 'a lower-case DNS host name such as app.example.com or *.example.com (labels of letters, digits and dashes, at most 253 characters)');
    } else if (name.endsWith('.cloudfront.net')) {
      add(`edge.domainNames[${i}]`, name, 'a name of your own domain; *.cloudfront.net names belong to CloudFront');
    }
    if (seen.has(name)) add(`edge.domainNames[${i}]`, name, 'each name once');
    seen.add(name);
  });
  if (certificateArn === undefined) return;
  const match = CERTIFICATE_ARN_PATTERN.exec(certificateArn);
  if (!match) {
    add('edge.certificateArn', certificateArn, 'an ACM certificate ARN, arn:aws:acm:us-east-1:<account>:certificate/<uuid>');
    return;
  }
  const [, , region, account] = match;
  if (region !== 'us-east-1') add('edge.certificateArn', certificateArn, `a certificate in us-east-1, not ${region}: CloudFront only uses ACM certificates from us-east-1`);
  if (env.account !== undefined && ACCOUNT_PATTERN.test(env.account) && account !== env.account) {
    add('edge.certificateArn', certificateArn, `a certificate of the environment's account ${env.account}, not ${account}: CloudFront cannot use another account's certificate`);
  }
}

/**
 * Cross-region Kafka replication: a known phase; only a provisioned primary cluster (MSK Serverless, the `dev`
 * tier, has no multi-VPC connectivity) and, for `on`, at least one secondary region to replicate into.
 */
function validateKafkaReplication(env: EnvironmentConfig, add: (field: string, value: unknown, allowed: string) => void): void {
  const mode = env.kafkaReplication ?? 'off';
  if (!(KAFKA_REPLICATION_MODES as readonly string[]).includes(mode)) {
    add('kafkaReplication', mode, `one of ${KAFKA_REPLICATION_MODES.join(', ')}`);
    return;
  }
  if (mode === 'off') return;
  // The capacity model gives the dev tier (dev and pr-N) MSK Serverless.
  if (env.tier === 'dev') {
    add('kafkaReplication', mode, `off: tier dev runs MSK Serverless, which cannot be a cross-region replicator source (use a provisioned tier: ${CAPACITY_TIERS.filter((t) => t !== 'dev').join(', ')})`);
  } else if (mode === 'on' && env.regions.length < 2) {
    add('kafkaReplication', mode, `off or prepare: on needs a secondary region to replicate into, and ${env.name} has ${env.regions.length} region(s)`);
  }
}

function validateRegions(env: EnvironmentConfig, add: (field: string, value: unknown, allowed: string) => void): void {
  if (env.regions.length === 0) add('regions', [], 'at least one region (the first is the primary)');
  const seen = new Set<string>();
  const minZones = env.kind === 'staging' || env.kind === 'prod' ? 3 : 2;
  env.regions.forEach((r, i) => {
    const field = `regions[${i}]`;
    const letters = KNOWN_REGION_ZONES[r.region];
    if (!letters) add(`${field}.region`, r.region, `a known region: ${Object.keys(KNOWN_REGION_ZONES).join(', ')}`);
    if (seen.has(r.region)) add(`${field}.region`, r.region, 'each region once per environment');
    seen.add(r.region);

    if (!parseCidr(r.vpcCidr)) add(`${field}.vpcCidr`, r.vpcCidr, 'an IPv4 CIDR with no host bits set, such as 10.30.0.0/16');
    else if (parseCidr(r.vpcCidr)!.prefix < 16 || parseCidr(r.vpcCidr)!.prefix > 20) add(`${field}.vpcCidr`, r.vpcCidr, 'a prefix from /16 to /20 (VPC limits, room for 3 tiers x 3 AZs)');

    if ((CAPACITY_TIERS as readonly string[]).includes(env.tier) && env.tier !== 'dev' && r.availabilityZones.length < 3) {
      add(`${field}.availabilityZones`, r.availabilityZones, `at least 3 zones for the ${env.tier} tier (provisioned MSK spreads its brokers over three zones)`);
    } else if (r.availabilityZones.length < minZones) {
      add(`${field}.availabilityZones`, r.availabilityZones, `at least ${minZones} zones in ${env.kind} (EKS, Aurora and MSK span zones)`);
    }
    const zoneSet = new Set<string>();
    r.availabilityZones.forEach((az, j) => {
      const letter = az.startsWith(r.region) ? az.slice(r.region.length) : undefined;
      if (letter === undefined || !/^[a-z]$/.test(letter) || (letters && !letters.includes(letter))) {
        const known = letters ? letters.map((l) => `${r.region}${l}`).join(', ') : `zones named ${r.region}<letter>`;
        add(`${field}.availabilityZones[${j}]`, az, `a zone of ${r.region}: ${known}`);
      }
      if (zoneSet.has(az)) add(`${field}.availabilityZones[${j}]`, az, 'each zone once');
      zoneSet.add(az);
    });

    if (!Number.isInteger(r.natGateways) || r.natGateways < 1 || r.natGateways > r.availabilityZones.length) {
      add(`${field}.natGateways`, r.natGateways, `a whole number from 1 to the zone count (${r.availabilityZones.length})`);
    } else if (env.kind === 'prod' && r.natGateways !== r.availabilityZones.length) {
      add(`${field}.natGateways`, r.natGateways, `one per zone in prod (${r.availabilityZones.length})`);
    }
  });

  for (let i = 0; i < env.regions.length; i++) {
    for (let j = i + 1; j < env.regions.length; j++) {
      const a = parseCidr(env.regions[i].vpcCidr);
      const b = parseCidr(env.regions[j].vpcCidr);
      if (a && b && cidrsOverlap(a, b)) {
        add(`regions[${j}].vpcCidr`, env.regions[j].vpcCidr,
          `a range that does not overlap regions[${i}].vpcCidr (${env.regions[i].vpcCidr}) of ${env.regions[i].region}`);
      }
    }
  }
}
