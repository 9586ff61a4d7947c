/** The one error catalog of `@greentic/component-cli`. */
export type ComponentCliErrorCode =
  /** Bad command-line usage: unknown option, bad value, missing argument, path not found. */
  | 'GT_COMPONENT_CLI_USAGE'
  /** The folder is not a component project (no `component.manifest.json`, no entry file) or it is invalid. */
  | 'GT_COMPONENT_CLI_PROJECT'
  /** esbuild could not bundle the component's sources (syntax error, unresolved import). */
  | 'GT_COMPONENT_CLI_BUNDLE'
  /** ComponentizeJS could not turn the bundle into a component (it does not match the WIT world, or it threw). */
  | 'GT_COMPONENT_CLI_COMPONENTIZE'
  /** The file is not a WebAssembly component (a core module, or not Wasm at all). */
  | 'GT_COMPONENT_CLI_NOT_A_COMPONENT'
  /** `new` would overwrite an existing folder. */
  | 'GT_COMPONENT_CLI_EXISTS';

export class ComponentCliError extends Error {
  override readonly name = 'ComponentCliError';
  constructor(
    readonly code: ComponentCliErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
