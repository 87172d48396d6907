import * as fs from 'node:fs';
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { ConnectHubEdgeProps, resolveImageOptions, resolveWafOptions } from './edge-props';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const HOSTNAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const NLB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer\/net\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]+$/;

function show(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * Checks every prop of ConnectHubEdge and the region of its stack; throws one error listing every
 * problem (field, value, what is allowed). Unresolved tokens are skipped.
 */
export function validateEdgeProps(props: ConnectHubEdgeProps, stackRegion: string): void {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => { if (!ok) problems.push(message); };
  const known = (v: unknown) => !Token.isUnresolved(v);

  check(known(stackRegion) && stackRegion === 'us-east-1',
    `stack region is ${Token.isUnresolved(stackRegion) ? 'not set (environment-agnostic stack)' : show(stackRegion)}; ` +
    'CloudFront, its WAF web ACL (scope CLOUDFRONT) and its certificate must be deployed in us-east-1: give the stack env.region "us-east-1"');
  if (known(props.primaryRegion)) {
    check(REGION.test(props.primaryRegion), `primaryRegion ${show(props.primaryRegion)} is not an AWS region name (e.g. "us-east-1")`);
  }

  if (props.apiOrigins.length === 0) {
    problems.push('apiOrigins is empty; give at least the primary region\'s load balancers (primary first)');
  }
  const seen = new Set<string>();
  props.apiOrigins.forEach((origin, i) => {
    if (known(origin.region)) {
      check(REGION.test(origin.region), `apiOrigins[${i}].region ${show(origin.region)} is not an AWS region name`);
      check(!seen.has(origin.region), `apiOrigins[${i}].region ${show(origin.region)} is listed twice; one origin per region`);
      seen.add(origin.region);
    }
    for (const role of ['api', 'realtime'] as const) {
      const lb = origin[role];
      if (!lb) {
        problems.push(`apiOrigins[${i}].${role} is missing; give the ${role} NLB's loadBalancerArn and domainName`);
        continue;
      }
      if (known(lb.domainName)) {
        check(HOSTNAME.test(lb.domainName) && !lb.domainName.startsWith('*'),
          `apiOrigins[${i}].${role}.domainName ${show(lb.domainName)} is not a DNS name`);
      }
      if (known(lb.loadBalancerArn)) {
        const match = NLB_ARN.exec(lb.loadBalancerArn);
        check(match !== null,
          `apiOrigins[${i}].${role}.loadBalancerArn ${show(lb.loadBalancerArn)} is not a Network Load Balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/net/<name>/<id>)`);
        if (match && known(origin.region)) {
          check(match[1] === origin.region,
            `apiOrigins[${i}].${role}.loadBalancerArn ${show(lb.loadBalancerArn)} is in ${show(match[1])}, not in its entry's region ${show(origin.region)}`);
        }
      }
    }
  });
  if (props.apiOrigins.length > 0 && known(props.apiOrigins[0].region) && known(props.primaryRegion)) {
    check(props.apiOrigins[0].region === props.primaryRegion,
      `apiOrigins[0].region ${show(props.apiOrigins[0].region)} must be the primary region ${show(props.primaryRegion)} (primary first)`);
  }
  if (props.activeApiRegion !== undefined && known(props.activeApiRegion)) {
    check(seen.has(props.activeApiRegion),
      `activeApiRegion ${show(props.activeApiRegion)} has no entry in apiOrigins (regions: ${show([...seen])})`);
  }

  check(!props.autoDeleteObjects || props.removalPolicy === RemovalPolicy.DESTROY,
    `autoDeleteObjects is true but removalPolicy is ${show(props.removalPolicy ?? RemovalPolicy.RETAIN)}; emptying buckets on delete needs removalPolicy RemovalPolicy.DESTROY`);

  const aliases = props.aliases ?? [];
  if (props.certificateArn !== undefined && known(props.certificateArn)) {
    const match = CERT_ARN.exec(props.certificateArn);
    check(match !== null, `certificateArn ${show(props.certificateArn)} is not an ACM certificate ARN`);
    check(match === null || match[1] === 'us-east-1', `certificateArn ${show(props.certificateArn)} must be in us-east-1 (CloudFront only uses certificates from us-east-1)`);
  }
  check(props.certificateArn === undefined || aliases.length > 0, 'certificateArn is set but aliases is empty; give the domain names the certificate covers');
  check(aliases.length === 0 || props.certificateArn !== undefined, `aliases ${show(aliases)} need certificateArn (the default certificate only covers *.cloudfront.net)`);
  aliases.forEach((alias, i) => {
    if (known(alias)) check(HOSTNAME.test(alias), `aliases[${i}] ${show(alias)} is not a DNS name`);
  });

  if (props.geoRestriction) {
    const { type, countries } = props.geoRestriction;
    check(type === 'allow' || type === 'deny', `geoRestriction.type ${show(type)} must be "allow" or "deny"`);
    check(countries.length > 0, 'geoRestriction.countries is empty; give ISO 3166-1 alpha-2 codes or leave geoRestriction out');
    countries.forEach((c, i) => check(/^[A-Z]{2}$/.test(c), `geoRestriction.countries[${i}] ${show(c)} is not an ISO 3166-1 alpha-2 code (two upper-case letters)`));
  }

  const img = resolveImageOptions(props.imageOptimization);
  check(img.widths.length > 0 && img.widths.length <= 20, `imageOptimization.widths has ${img.widths.length} entries; allowed: 1 to 20`);
  check(img.widths.every((w) => Number.isInteger(w) && w >= 16 && w <= 8192), `imageOptimization.widths ${show(img.widths)} must be integers 16..8192`);
  check(img.widths.every((w, i) => i === 0 || w > img.widths[i - 1]), `imageOptimization.widths ${show(img.widths)} must be strictly ascending`);
  check(Number.isInteger(img.maxHeight) && img.maxHeight >= 16 && img.maxHeight <= 16384, `imageOptimization.maxHeight ${show(img.maxHeight)} must be an integer 16..16384`);
  check(Number.isInteger(img.maxInputPixels) && img.maxInputPixels >= 1_000_000 && img.maxInputPixels <= 268_402_689,
    `imageOptimization.maxInputPixels ${show(img.maxInputPixels)} must be an integer 1000000..268402689`);
  check(Number.isInteger(img.maxInputBytes) && img.maxInputBytes >= 1024 && img.maxInputBytes <= 100 * 1024 * 1024,
    `imageOptimization.maxInputBytes ${show(img.maxInputBytes)} must be an integer 1024..104857600`);
  check(Number.isInteger(img.minQuality) && Number.isInteger(img.maxQuality) && Number.isInteger(img.defaultQuality) &&
    img.minQuality >= 1 && img.minQuality <= img.defaultQuality && img.defaultQuality <= img.maxQuality && img.maxQuality <= 100,
  `imageOptimization qualities min ${img.minQuality}, default ${img.defaultQuality}, max ${img.maxQuality} must be integers with 1 <= min <= default <= max <= 100`);
  check(Number.isInteger(img.memorySize) && img.memorySize >= 512 && img.memorySize <= 10240,
    `imageOptimization.memorySize ${show(img.memorySize)} must be an integer 512..10240 (MiB)`);
  check(Number.isInteger(img.reservedConcurrency) && img.reservedConcurrency >= 1,
    `imageOptimization.reservedConcurrency ${show(img.reservedConcurrency)} must be a positive integer`);
  check(img.transformedImageExpiration.toDays({ integral: false }) >= 1,
    `imageOptimization.transformedImageExpiration ${img.transformedImageExpiration.toHumanString()} must be at least 1 day`);

  const waf = resolveWafOptions(props.waf);
  check(Number.isInteger(waf.rateLimit) && waf.rateLimit >= 10 && waf.rateLimit <= 2_000_000_000,
    `waf.rateLimit ${show(waf.rateLimit)} must be an integer 10..2000000000 (requests per IP per window)`);
  check([60, 120, 300, 600].includes(waf.rateLimitWindow.toSeconds({ integral: false })),
    `waf.rateLimitWindow ${waf.rateLimitWindow.toHumanString()} must be 60, 120, 300 or 600 seconds`);

  if (props.noncurrentVersionRetention) {
    check(props.noncurrentVersionRetention.toDays({ integral: false }) >= 1,
      `noncurrentVersionRetention ${props.noncurrentVersionRetention.toHumanString()} must be at least 1 day`);
  }
  if (props.invalidationBatchWindow) {
    const s = props.invalidationBatchWindow.toSeconds({ integral: false });
    check(s >= 0 && s <= 300, `invalidationBatchWindow ${props.invalidationBatchWindow.toHumanString()} must be 0..300 seconds (SQS batching window)`);
  }
  if (props.staticAssetsPath !== undefined) {
    let isDir = false;
    try { isDir = fs.statSync(props.staticAssetsPath).isDirectory(); } catch { isDir = false; }
    check(isDir, `staticAssetsPath ${show(props.staticAssetsPath)} is not a directory`);
  }

  if (problems.length > 0) {
    throw new Error(`ConnectHubEdge: invalid props:\n  - ${problems.join('\n  - ')}`);
  }
}
