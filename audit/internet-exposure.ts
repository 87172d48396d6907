/**
 * Everything in the templates that is reachable from the internet, or gives a path to it: CloudFront, internet-facing
 * load balancers (CloudFormation and Kubernetes Services/Ingresses), security-group ingress from 0.0.0.0/0 or ::/0,
 * public subnets and internet-gateway routes, Lambda function URLs and public invoke permissions, public API
 * endpoints (API Gateway, EKS), publicly accessible databases and buckets without a full public-access block, and
 * the doors a browser opens without signing in: Cognito identity pools that hand guests AWS credentials (with the
 * guest role's permissions), user pools anyone can sign up to, and CloudWatch RUM app monitors.
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

/** The logical id a `Ref` or `Fn::GetAtt` points at, if any. */
function referencedId(value: any): string | undefined {
  if (typeof value?.Ref === 'string') return value.Ref;
  const getAtt = value?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** `Allow rum:PutRumEvents on arn:...` for each statement of a policy document. */
function statementsText(document: any): string[] {
  const statements: any[] = Array.isArray(document?.Statement) ? document.Statement : document?.Statement ? [document.Statement] : [];
  return statements.map((st) => {
    const actions = renderValue(st.Action ?? st.NotAction);
    const resources = renderValue(st.Resource ?? st.NotResource);
    return `${st.Effect} ${st.NotAction ? 'all but ' : ''}${actions} on ${st.NotResource ? 'all but ' : ''}${resources}` +
      `${st.Condition ? ` if ${JSON.stringify(st.Condition)}` : ''}`;
  });
}

/** What a role of the same template may do: its inline policies, and the policies and managed policies attached to it. */
function rolePermissions(resources: Record<string, any>, roleId: string): string[] {
  const role = resources[roleId]?.Properties ?? {};
  const out: string[] = [];
  for (const inline of role.Policies ?? []) out.push(...statementsText(inline.PolicyDocument));
  for (const arn of role.ManagedPolicyArns ?? []) {
    const local = referencedId(arn);
    if (!local || !resources[local]) out.push(`managed policy ${renderValue(arn)}`);
  }
  for (const [id, r] of Object.entries(resources).sort(([a], [b]) => compare(a, b))) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const attached = (r.Properties?.Roles ?? []).some((x: any) => referencedId(x) === roleId) ||
      (role.ManagedPolicyArns ?? []).some((x: any) => referencedId(x) === id);
    if (attached) out.push(...statementsText(r.Properties?.PolicyDocument));
  }
  return out;
}

/** A Cognito identity pool: who may get credentials, and for guests which role with which permissions. */
function identityPoolDetail(resources: Record<string, any>, poolId: string, p: any): { kind: string; detail: string } {
  const attachment = Object.values(resources).find((r) => r.Type === 'AWS::Cognito::IdentityPoolRoleAttachment' &&
    referencedId(r.Properties?.IdentityPoolId) === poolId);
  const roles = attachment?.Properties?.Roles ?? {};
  const providers = [
    ...(p.CognitoIdentityProviders ?? []).map((x: any) => `Cognito user pool ${renderValue(x.ProviderName)}`),
    ...Object.keys(p.SupportedLoginProviders ?? {}),
    ...(p.OpenIdConnectProviderARNs ?? []).map(renderValue),
    ...(p.SamlProviderARNs ?? []).map(renderValue),
  ];
  const signedIn = `signed-in identities from: ${providers.length ? providers.join(', ') : 'no provider'}` +
    `${roles.authenticated ? ` (role ${renderValue(roles.authenticated)})` : ''}; classic flow ${p.AllowClassicFlow === true ? 'on' : 'off'}`;
  if (p.AllowUnauthenticatedIdentities !== true) return { kind: 'cognito-identity-pool', detail: `no guest access; ${signedIn}` };
  const guest = roles.unauthenticated;
  if (guest === undefined) {
    return { kind: 'cognito-guest-credentials', detail: `AllowUnauthenticatedIdentities true but no unauthenticated role attached (guests get an identity id, no credentials); ${signedIn}` };
  }
  const roleId = referencedId(guest);
  const permissions = roleId && resources[roleId] ? rolePermissions(resources, roleId) : [];
  const what = roleId && resources[roleId] ? (permissions.length ? permissions.join('; ') : 'no permissions') : 'permissions defined outside this stack';
  return {
    kind: 'cognito-guest-credentials',
    detail: `AllowUnauthenticatedIdentities true: anyone (no sign-in) gets temporary AWS credentials of the unauthenticated role ` +
      `${roleId ?? renderValue(guest)}, which may: ${what}; ${signedIn}`,
  };
}

/** A user pool anyone can sign up to, with what protects it and how its app clients sign in. */
function selfSignUpDetail(resources: Record<string, any>, poolId: string, p: any): string {
  const clients = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient' && referencedId(r.Properties?.UserPoolId) === poolId)
    .sort(([a], [b]) => compare(a, b))
    .map(([id, r]) => {
      const c = r.Properties ?? {};
      const oauth = c.AllowedOAuthFlowsUserPoolClient ? `OAuth flows ${renderValue(c.AllowedOAuthFlows ?? [])}, callback URLs ${renderValue(c.CallbackURLs ?? []) || 'none'}` : 'no OAuth';
      return `${id} (auth flows ${renderValue(c.ExplicitAuthFlows ?? []) || 'Cognito default'}; ${oauth}; client secret ${c.GenerateSecret ? 'yes' : 'no'})`;
    });
  return `self sign-up on: anyone can create an account; auto-verified ${renderValue(p.AutoVerifiedAttributes ?? []) || 'nothing'}; ` +
    `MFA ${p.MfaConfiguration ?? 'OFF'}; threat protection ${p.UserPoolAddOns?.AdvancedSecurityMode ?? 'OFF'}; ` +
    `app clients: ${clients.length ? clients.join('; ') : 'none in this stack'}`;
}

/** A RUM app monitor: which sites may send events and how they are authorised. */
function rumDetail(p: any): string {
  const c = p.AppMonitorConfiguration ?? {};
  const domains = renderValue(p.DomainList ?? p.Domain ?? []);
  const signed = c.IdentityPoolId ? `signed with guest credentials of identity pool ${renderValue(c.IdentityPoolId)} (role ${renderValue(c.GuestRoleArn)})` : 'no identity pool';
  const policy = p.ResourcePolicy?.PolicyDocument ? `resource policy present (may accept unsigned events): ${renderValue(p.ResourcePolicy.PolicyDocument)}` : 'no resource policy (unsigned events refused)';
  return `browsers on ${domains || 'any domain'} send RUM events, ${signed}; ${policy}; sample rate ${c.SessionSampleRate ?? 'default'}, ` +
    `telemetries ${renderValue(c.Telemetries ?? []) || 'none'}, custom events ${p.CustomEvents?.Status ?? 'DISABLED'}`;
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
        case 'AWS::Cognito::IdentityPool': {
          const { kind, detail } = identityPoolDetail(resources, logicalId, p);
          add(kind, detail);
          break;
        }
        case 'AWS::Cognito::UserPool':
          if (p.AdminCreateUserConfig?.AllowAdminCreateUserOnly !== true) add('cognito-self-sign-up', selfSignUpDetail(resources, logicalId, p));
          break;
        case 'AWS::RUM::AppMonitor':
          add('rum-app-monitor', rumDetail(p));
          break;
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
