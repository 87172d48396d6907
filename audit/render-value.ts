/**
 * Readable text for template values that may hold CloudFormation intrinsics: `${Ref:Logical}`,
 * `${GetAtt:Logical.Attr}`, `${AWS::Region}`, joins flattened (the same placeholders as the auditor manifests of
 * cdk8s/audit-manifests.ts).
 */
import { renderIntrinsic } from '../cdk8s/audit-manifests';

/** A template value as one line of text. Strings stay as they are; intrinsics become placeholders. */
export function renderValue(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(renderValue).join(', ');
  try {
    const keys = Object.keys(value as object);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return renderIntrinsic(value);
  } catch {
    // fall through to JSON for shapes the renderer does not know
  }
  return JSON.stringify(value);
}

/**
 * The text of a Kubernetes manifest property (`Custom::AWSCDK-EKS-KubernetesResource`.`Manifest`): a JSON string,
 * or an `Fn::Join` of string pieces and intrinsics (rendered as placeholders, escaped for the JSON string they
 * sit in). Returns undefined for other shapes.
 */
export function manifestText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  const join = (raw as any)?.['Fn::Join'];
  if (!Array.isArray(join) || !Array.isArray(join[1])) return undefined;
  const [delimiter, parts] = join as [string, unknown[]];
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(renderValue(p)).slice(1, -1))).join(delimiter);
}
