/**
 * IAM statements with wildcards: an action or a resource containing `*`, in identity policies (IAM::Policy,
 * IAM::ManagedPolicy, inline policies of IAM::Role) and resource policies (bucket, key, queue, topic, secret
 * policies). Intrinsic resources are rendered first, so `arn:${AWS::Partition}:s3:::${Ref:Bucket}/*` counts.
 */
import { AssemblyStack, constructPath, sortedResources } from './cloud-assembly';
import { renderValue } from './render-value';
import { compare } from './stateful-resources';

export interface WildcardStatement {
  readonly stack: string;
  /** Logical id of the policy (or of the role / key / bucket policy that holds it). */
  readonly policyLogicalId: string;
  readonly policyType: string;
  readonly path: string;
  /** `identity` or `resource` policy. */
  readonly policyKind: 'identity' | 'resource';
  /** Inline policy name within a role, when the statement sits in `AWS::IAM::Role.Policies`. */
  readonly policyName?: string;
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly resources: string[];
  /** Principals of a resource-policy statement (`AWS:...`, `Service:...`, `*`); empty for identity policies. */
  readonly principals: string[];
  /** Which parts carry the wildcard. */
  readonly wildcardIn: ('action' | 'resource' | 'not-action' | 'not-resource')[];
}

/** Where each policy-bearing type keeps its documents. */
const DOCUMENTS: Record<string, { kind: 'identity' | 'resource'; documents: (p: any) => { name?: string; document: any }[] }> = {
  'AWS::IAM::Policy': { kind: 'identity', documents: (p) => [{ name: renderValue(p.PolicyName), document: p.PolicyDocument }] },
  'AWS::IAM::ManagedPolicy': { kind: 'identity', documents: (p) => [{ name: p.ManagedPolicyName ? renderValue(p.ManagedPolicyName) : undefined, document: p.PolicyDocument }] },
  'AWS::IAM::Role': { kind: 'identity', documents: (p) => (p.Policies ?? []).map((x: any) => ({ name: renderValue(x.PolicyName), document: x.PolicyDocument })) },
  'AWS::IAM::User': { kind: 'identity', documents: (p) => (p.Policies ?? []).map((x: any) => ({ name: renderValue(x.PolicyName), document: x.PolicyDocument })) },
  'AWS::IAM::Group': { kind: 'identity', documents: (p) => (p.Policies ?? []).map((x: any) => ({ name: renderValue(x.PolicyName), document: x.PolicyDocument })) },
  'AWS::S3::BucketPolicy': { kind: 'resource', documents: (p) => [{ document: p.PolicyDocument }] },
  'AWS::KMS::Key': { kind: 'resource', documents: (p) => [{ document: p.KeyPolicy }] },
  'AWS::SQS::QueuePolicy': { kind: 'resource', documents: (p) => [{ document: p.PolicyDocument }] },
  'AWS::SNS::TopicPolicy': { kind: 'resource', documents: (p) => [{ document: p.PolicyDocument }] },
  'AWS::SecretsManager::ResourcePolicy': { kind: 'resource', documents: (p) => [{ document: p.ResourcePolicy }] },
  'AWS::Logs::ResourcePolicy': { kind: 'resource', documents: (p) => [{ document: typeof p.PolicyDocument === 'string' ? safeParse(p.PolicyDocument) : p.PolicyDocument }] },
};

function safeParse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(renderValue));
const hasStar = (items: string[]) => items.some((i) => i.includes('*'));

/** `*`, or `Kind:value` for each principal of a statement, sorted. */
function principals(principal: unknown): string[] {
  if (principal === undefined) return [];
  if (principal === '*') return ['*'];
  if (typeof principal !== 'object' || principal === null) return [renderValue(principal)];
  return Object.entries(principal as Record<string, unknown>)
    .flatMap(([kind, value]) => list(value).map((v) => `${kind}:${v}`))
    .sort();
}

/** Every statement with a wildcard in the stacks, sorted by stack, policy and statement index. */
export function wildcardStatements(stacks: readonly AssemblyStack[]): WildcardStatement[] {
  const found: WildcardStatement[] = [];
  for (const stack of stacks) {
    for (const [logicalId, r] of sortedResources(stack.template)) {
      const spec = DOCUMENTS[r.Type];
      if (!spec) continue;
      for (const { name, document } of spec.documents(r.Properties ?? {})) {
        const statements: any[] = Array.isArray(document?.Statement) ? document.Statement : document?.Statement ? [document.Statement] : [];
        statements.forEach((s, statementIndex) => {
          const actions = list(s.Action);
          const notActions = list(s.NotAction);
          const resources = list(s.Resource);
          const notResources = list(s.NotResource);
          const wildcardIn: WildcardStatement['wildcardIn'] = [];
          if (hasStar(actions)) wildcardIn.push('action');
          if (hasStar(resources)) wildcardIn.push('resource');
          if (hasStar(notActions)) wildcardIn.push('not-action');
          if (hasStar(notResources)) wildcardIn.push('not-resource');
          if (wildcardIn.length === 0) return;
          found.push({
            stack: stack.stackName,
            policyLogicalId: logicalId,
            policyType: r.Type,
            path: constructPath(stack, logicalId, r),
            policyKind: spec.kind,
            ...(name ? { policyName: name } : {}),
            statementIndex,
            ...(s.Sid ? { sid: String(s.Sid) } : {}),
            effect: String(s.Effect ?? 'Allow'),
            actions: actions.length ? actions : notActions.map((a) => `NOT ${a}`),
            resources: resources.length ? resources : notResources.map((x) => `NOT ${x}`),
            principals: principals(s.Principal ?? (s.NotPrincipal !== undefined ? { NOT: s.NotPrincipal } : undefined)),
            wildcardIn,
          });
        });
      }
    }
  }
  return found.sort((a, b) => compare(a.stack, b.stack) || compare(a.policyLogicalId, b.policyLogicalId) ||
    compare(a.policyName ?? '', b.policyName ?? '') || a.statementIndex - b.statementIndex);
}
