/**
 * Security-check acknowledgments as the templates record them: cdk-nag writes every acknowledged rule into the
 * resource's metadata (`cdk_nag.rules_to_suppress`, with `id`, `reason` and, for granular findings, `applies_to`),
 * next to the construct path CDK records (`aws:cdk:path`).
 */
import { AssemblyStack, constructPath, sortedResources } from './cloud-assembly';
import { compare } from './stateful-resources';

export interface Acknowledgment {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** The rule, e.g. `AwsSolutions-IAM5` or `NIST.800.53.R5-IAMNoInlinePolicy`. */
  readonly rule: string;
  readonly reason: string;
  /** The granular findings the acknowledgment covers, e.g. `Action::s3:*`, when limited. */
  readonly appliesTo: string[];
}

function appliesTo(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => (typeof v === 'string' ? v : typeof (v as any)?.regex === 'string' ? `regex ${(v as any).regex}` : JSON.stringify(v)));
}

/** Every acknowledgment in the stacks, sorted by stack, construct path and rule. */
export function acknowledgments(stacks: readonly AssemblyStack[]): Acknowledgment[] {
  const found: Acknowledgment[] = [];
  for (const stack of stacks) {
    for (const [logicalId, r] of sortedResources(stack.template)) {
      const rules: any[] = r.Metadata?.cdk_nag?.rules_to_suppress ?? [];
      for (const rule of rules) {
        found.push({
          stack: stack.stackName,
          logicalId,
          type: r.Type,
          path: constructPath(stack, logicalId, r),
          rule: String(rule.id),
          reason: String(rule.reason ?? ''),
          appliesTo: appliesTo(rule.applies_to),
        });
      }
    }
  }
  return found.sort((a, b) => compare(a.stack, b.stack) || compare(a.path, b.path) || compare(a.rule, b.rule) ||
    compare(a.appliesTo.join(), b.appliesTo.join()));
}
