import { parseArguments } from '../../tools/audit-report';

describe('audit-report arguments (the same ones `npm run synth -- ...` gives cdk synth)', () => {
  test('context pairs in every form the CDK CLI accepts, the assembly folder and the report folder', () => {
    expect(parseArguments(['**', '-c', 'env=dev,prod', '--context', 'prod:tier=one-year', '--context=prod:account=123456789012', '-o', 'out', '--out=reports'])).toEqual({
      assemblyDir: 'out',
      outDir: 'reports',
      context: { env: 'dev,prod', 'prod:tier': 'one-year', 'prod:account': '123456789012' },
    });
  });

  test('defaults: cdk.out, no context; other synth flags are ignored', () => {
    expect(parseArguments(['--quiet', '**'])).toEqual({ assemblyDir: 'cdk.out', context: {} });
  });

  test('a context argument without key=value is one clear error', () => {
    expect(() => parseArguments(['-c', 'env'])).toThrow('--context expects key=value, got "env"');
  });
});
