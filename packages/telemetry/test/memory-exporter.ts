import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Keeps exported spans in memory (the SDK's InMemorySpanExporter, without importing the SDK's ESM build into vitest). */
export class MemoryExporter implements SpanExporter {
  private spans: ReadableSpan[] = [];
  private stopped = false;

  export(spans: ReadableSpan[], done: (result: { code: number; error?: Error }) => void): void {
    if (this.stopped) {
      done({ code: 1, error: new Error('exporter is shut down') });
      return;
    }
    this.spans.push(...spans);
    done({ code: 0 });
  }

  getFinishedSpans(): ReadableSpan[] {
    return this.spans;
  }

  reset(): void {
    this.spans = [];
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  async forceFlush(): Promise<void> {}
}
