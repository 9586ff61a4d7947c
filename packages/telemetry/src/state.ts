/**
 * Process-wide telemetry state shared by the modules of this package (not exported from the package).
 *
 * The generation changes whenever `initTelemetry` installs or `shutdown` removes a global tracer provider, so that
 * tracers resolved earlier are resolved again instead of keeping a provider that was shut down.
 */
let generation = 0;

export function providerGeneration(): number {
  return generation;
}

export function bumpProviderGeneration(): void {
  generation++;
}
