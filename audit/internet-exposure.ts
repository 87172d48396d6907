/**
 * Everything in the templates that is reachable from the internet, or gives a path to it: CloudFront, internet-facing
 * load balancers (CloudFormation and Kubernetes Services/Ingresses), security-group ingress from 0.0.0.0/0 or ::/0,
 * public subnets and internet-gateway routes, Lambda function URLs and public invoke permissions, public API
 * endpoints (API Gateway, EKS), publicly accessible databases and buckets without a full public-access block.
 */
import { AssemblyStack, constructPath, sortedResources } from './cloud-assembly';
import { KubernetesManifest } from './kubernetes-workloads';
import { renderValue } from './render-value';
import { compare } from './stateful-resources';

export interface ExposureFinding {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** What kind of exposure, e.g. `cloudfront`, `load-balancer`, `open-security-group`, `public-subnet`. */
  readonly kind: string;
  readonly detail: string;
}

const OPEN_CIDRS = new Set(['0.0.0.0/0', '::/0']);

function ingressDetail(rule: any): string {
  const cidr = rule.CidrIp ?? rule.CidrIpv6;
  const ports = rule.IpProtocol === '-1' || rule.IpProtocol === -1 ? 'all traffic' : `${rule.IpProtocol} ${rule.FromPort ?? '*'}-${rule.ToPort ?? '*'}`;
  return `ingress from ${cidr}: ${ports}${rule.Description ? ` (${rule.Description})` : ''}`;
}

/** Internet exposure in CloudFormation resources. */
export function templateExposure(stacks: readonly AssemblyStack[]): ExposureFinding[] {
  const found: ExposureFinding[] = [];
  for (const stack of stacks) {
    const resources = stack.template.Resources ?? {};
    const igws = new Set(Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::InternetGateway').map(([id]) => id));
    for (const [logicalId, r] of sortedResources(stack.template)) {
      const p = r.Properties ?? {};
      const add = (kind: string, detail: string) =>
        found.push({ stack: stack.stackName, logicalId, type: r.Type, path: constructPath(stack, logicalId, r), kind, detail });
      switch (r.Type) {
        case 'AWS::CloudFront::Distribution': {
          const c = p.DistributionConfig ?? {};
          const origins = (c.Origins ?? []).map((o: any) => renderValue(o.DomainName)).join(', ');
          add('cloudfront', `public CDN; aliases: ${renderValue(c.Aliases ?? []) || 'none'}; WAF: ${c.WebACLId ? renderValue(c.WebACLId) : 'none'}; ` +
            `viewer TLS: ${c.ViewerCertificate?.MinimumProtocolVersion ?? 'CloudFront default'}; origins: ${origins}`);
          break;
        }
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
        case 'AWS::ElasticLoadBalancing::LoadBalancer':
          if ((p.Scheme ?? 'internet-facing') === 'internet-facing') add('load-balancer', `${p.Type ?? 'classic'} load balancer, scheme internet-facing`);
          break;
        case 'AWS::EC2::SecurityGroup':
          for (const rule of p.SecurityGroupIngress ?? []) {
            if (OPEN_CIDRS.has(rule.CidrIp) || OPEN_CIDRS.has(rule.CidrIpv6)) add('open-security-group', ingressDetail(rule));
          }
          break;
        case 'AWS::EC2::SecurityGroupIngress':
          if (OPEN_CIDRS.has(p.CidrIp) || OPEN_CIDRS.has(p.CidrIpv6)) add('open-security-group', `${ingressDetail(p)} into ${renderValue(p.GroupId)}`);
          break;
        case 'AWS::EC2::Subnet':
          if (p.MapPublicIpOnLaunch === true) add('public-subnet', `public IPs on launch, ${renderValue(p.CidrBlock)} in ${renderValue(p.AvailabilityZone)}`);
          break;
        case 'AWS::EC2::Route': {
          const gateway = p.GatewayId?.Ref;
          if (gateway && igws.has(gateway)) {
            add('internet-route', `${p.DestinationCidrBlock ?? p.DestinationIpv6CidrBlock} via internet gateway ${gateway} in route table ${renderValue(p.RouteTableId)}`);
          }
          break;
        }
        case 'AWS::EC2::InternetGateway':
          add('internet-gateway', 'internet gateway of a VPC (public subnets route through it)');
          break;
        case 'AWS::Lambda::Url':
          add('lambda-function-url', `function URL, auth ${p.AuthType}, target ${renderValue(p.TargetFunctionArn)}`);
          break;
        case 'AWS::Lambda::Permission':
          if (p.FunctionUrlAuthType !== undefined || p.Principal === '*') {
            add('lambda-public-permission', `${p.Action} for ${p.Principal}${p.FunctionUrlAuthType ? ` (function URL, auth ${p.FunctionUrlAuthType})` : ''}`);
          }
          break;
        case 'AWS::ApiGateway::RestApi': {
          const types: string[] = p.EndpointConfiguration?.Types ?? ['EDGE'];
          if (!types.includes('PRIVATE')) add('api-gateway', `REST API, endpoint ${types.join(', ')}`);
          break;
        }
        case 'AWS::ApiGatewayV2::Api':
          add('api-gateway', `${p.ProtocolType ?? 'HTTP'} API, public endpoint${p.DisableExecuteApiEndpoint ? ' disabled (custom domain only)' : ''}`);
          break;
        case 'AWS::EKS::Cluster': {
          const vpc = p.ResourcesVpcConfig ?? {};
          if (vpc.EndpointPublicAccess !== false) {
            add('eks-public-endpoint', `Kubernetes API endpoint public, allowed from ${renderValue(vpc.PublicAccessCidrs ?? ['0.0.0.0/0'])}`);
          }
          break;
        }
        case 'AWS::RDS::DBInstance':
          if (p.PubliclyAccessible === true) add('public-database', 'PubliclyAccessible true');
          break;
        case 'AWS::MSK::Cluster':
          if (p.BrokerNodeGroupInfo?.ConnectivityInfo?.PublicAccess?.Type && p.BrokerNodeGroupInfo.ConnectivityInfo.PublicAccess.Type !== 'DISABLED') {
            add('public-kafka', `public access ${p.BrokerNodeGroupInfo.ConnectivityInfo.PublicAccess.Type}`);
          }
          break;
        case 'AWS::S3::Bucket': {
          const block = p.PublicAccessBlockConfiguration ?? {};
          const flags = ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].filter((f) => block[f] !== true);
          if (flags.length) add('s3-public-access', `public access block incomplete: ${flags.join(', ')} not set`);
          if (p.WebsiteConfiguration) add('s3-website', 'static website hosting enabled');
          break;
        }
        default:
          break;
      }
    }
  }
  return found;
}

const SCHEME_ANNOTATIONS = ['service.beta.kubernetes.io/aws-load-balancer-scheme', 'alb.ingress.kubernetes.io/scheme'];
const INTERNAL_ANNOTATION = 'service.beta.kubernetes.io/aws-load-balancer-internal';

/**
 * Load balancers requested from Kubernetes: Services of type LoadBalancer and Ingresses, with their scheme. The AWS
 * Load Balancer Controller and EKS Auto Mode default to `internal` when no scheme annotation is given.
 */
export function kubernetesExposure(manifests: readonly KubernetesManifest[]): ExposureFinding[] {
  const found: ExposureFinding[] = [];
  for (const m of manifests) {
    for (const o of m.objects) {
      const isLbService = o?.kind === 'Service' && o.spec?.type === 'LoadBalancer';
      if (!isLbService && o?.kind !== 'Ingress') continue;
      const annotations: Record<string, string> = o.metadata?.annotations ?? {};
      const given = SCHEME_ANNOTATIONS.map((a) => annotations[a]).find((v) => v !== undefined);
      const scheme = given ?? (annotations[INTERNAL_ANNOTATION] === 'true' ? 'internal' : undefined);
      const ports = isLbService ? (o.spec.ports ?? []).map((p: any) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ') : 'http(s) rules';
      const sources = o.spec?.loadBalancerSourceRanges ?? (annotations['alb.ingress.kubernetes.io/inbound-cidrs']?.split(',') ?? []);
      found.push({
        stack: m.stack,
        logicalId: m.logicalId,
        type: `k8s ${o.kind}`,
        path: `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`,
        kind: scheme === 'internet-facing' ? 'k8s-public-load-balancer' : 'k8s-internal-load-balancer',
        detail: `${o.kind} ${o.metadata?.name}: scheme ${scheme ?? 'internal (controller default, no scheme annotation)'}; ports ${ports}` +
          `${sources.length ? `; source ranges ${sources.join(', ')}` : ''}`,
      });
    }
  }
  return found;
}

/** All exposure findings sorted by stack, kind, logical id and detail. */
export function internetExposure(stacks: readonly AssemblyStack[], manifests: readonly KubernetesManifest[]): ExposureFinding[] {
  return [...templateExposure(stacks), ...kubernetesExposure(manifests)]
    .sort((a, b) => compare(a.stack, b.stack) || compare(a.kind, b.kind) || compare(a.logicalId, b.logicalId) || compare(a.detail, b.detail));
}
