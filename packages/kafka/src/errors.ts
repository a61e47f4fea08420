/** A failure with enough context (broker, topic, group, offset) to act on without a stack trace. */
export class KafkaInspectError extends Error {
  override name = 'KafkaInspectError';
}
