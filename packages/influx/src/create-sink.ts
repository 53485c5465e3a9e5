import type { Sink } from './sink.ts';
import { createV1Sink, type V1SinkOptions } from './v1-sink.ts';
import { createV2Sink, type V2SinkOptions } from './v2-sink.ts';

/** Which server to write to, as config names it. */
export type SinkConfig = ({ api: 'v1' } & V1SinkOptions) | ({ api: 'v2' } & V2SinkOptions);

export function createSink(config: SinkConfig): Sink {
  switch (config.api) {
    case 'v1':
      return createV1Sink(config);
    case 'v2':
      return createV2Sink(config);
  }
}
