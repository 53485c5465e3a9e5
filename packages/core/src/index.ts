export { DEFAULT_INGEST_LIMITS, ingestPayload, type IngestInput, type IngestLimits, type IngestOutcome } from './ingest-payload.ts';
export { toLineProtocol } from './to-line-protocol.ts';
export { evaluateThresholds } from './evaluate-thresholds.ts';
