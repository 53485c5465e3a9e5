export type { Sink, SinkApi } from './sink.ts';
export {
  SINK_ERROR_BODY_MAX_CHARS,
  SinkWriteError,
  networkWriteError,
  type SinkWriteErrorCode,
  type SinkWriteErrorInit,
} from './sink-write-error.ts';
export {
  classifyWriteFailure,
  isWriteAccepted,
  parseRetryAfterMs,
  type ResponseHeaders,
} from './classify-write-failure.ts';
export { V1_SINK_DEFAULTS, createV1Sink, type V1SinkOptions } from './v1-sink.ts';
export { V2_SINK_DEFAULTS, createV2Sink, type V2SinkOptions } from './v2-sink.ts';
export { createSink, type SinkConfig } from './create-sink.ts';
