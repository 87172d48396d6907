import { DLQ_SUFFIX as BACKEND_DLQ_SUFFIX, TOPIC_NAMES } from '../../backend/src/contract';
import { CONNECTHUB_TOPICS, DLQ_SUFFIX } from '../../constructs/streaming/kafka-topics';
import { ENVIRONMENT_REGIONS } from '../../lambdas/slo-reporter/slo-definitions';
import { TOPICS } from '../../lib/capacity/capacity-model';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';

// Lambdas and the backend import nothing from the CDK code (dependencies point one way), so a few plain lists exist
// in more than one place. These tests keep the copies equal.
describe('definitions shared across the dependency boundary', () => {
  test('the SLO reporter knows the same environments and regions as the config', () => {
    const fromConfig = Object.fromEntries(Object.values(LONG_LIVED_ENVIRONMENTS).map((e) => [e.name, e.regions.map((r) => r.region)]));
    expect(ENVIRONMENT_REGIONS).toEqual(fromConfig);
  });

  test('the capacity model, the topic construct and the backend name the same Kafka topics', () => {
    expect([...TOPICS].sort()).toEqual([...TOPIC_NAMES].sort());
    expect([...CONNECTHUB_TOPICS].sort()).toEqual([...TOPIC_NAMES].sort());
    expect(DLQ_SUFFIX).toBe(BACKEND_DLQ_SUFFIX);
  });
});
