import { KafkajsAdmin } from '../../lambdas/kafka-common/kafkajs-admin';

/**
 * The kafkajs adapter is the untested-against-a-broker boundary (no Kafka can run here). These tests only pin what
 * can be checked without one: input validation and that nothing connects before it is used.
 */
describe('KafkajsAdmin (no broker)', () => {
  test('an empty bootstrap list is refused with the value and what is allowed', () => {
    expect(() => new KafkajsAdmin({ bootstrapBrokers: ' , ', region: 'us-east-1', clientId: 't' })).toThrow(
      /bootstrapBrokers is " , "; allowed: a comma-separated host:port list/,
    );
  });

  test('construction does not connect, and disconnect before use is a no-op', async () => {
    const admin = new KafkajsAdmin({ bootstrapBrokers: 'b-1.example.invalid:9098,b-2.example.invalid:9098', region: 'us-east-1', clientId: 't' });
    await expect(admin.disconnect()).resolves.toBeUndefined();
  });
});
