/**
 * The one error catalog of `@greentic/component`. Every failure of loading or running a component is a
 * {@link ComponentError} with a stable `code`; the original error is kept as `cause`.
 */
export type ComponentErrorCode =
  /** The component file could not be read, or jco could not transpile it (not a component, corrupt bytes). */
  | 'GT_COMPONENT_LOAD'
  /** The component's digest is not the expected one. */
  | 'GT_COMPONENT_DIGEST'
  /** The component manifest is invalid (JSON Schema) or does not match the component. */
  | 'GT_COMPONENT_MANIFEST'
  /** The component does not speak the contract: missing export, wrong world/version, unsupported import. */
  | 'GT_COMPONENT_ABI'
  /** The component asked for something its manifest or network policy does not allow. */
  | 'GT_COMPONENT_DENIED'
  /** The component trapped (`unreachable`, out-of-bounds access, stack overflow...). */
  | 'GT_COMPONENT_TRAP'
  /** The component grew past its memory limit. */
  | 'GT_COMPONENT_MEMORY'
  /** The call ran past its wall-time limit and was stopped. */
  | 'GT_COMPONENT_TIMEOUT'
  /** The caller cancelled the call (AbortSignal). */
  | 'GT_COMPONENT_CANCELLED'
  /** A host service (state, secrets, HTTP) failed while serving the component. */
  | 'GT_COMPONENT_HOST'
  /** The input or output could not be encoded/decoded as CBOR. */
  | 'GT_COMPONENT_CODEC'
  /** The sandbox worker died for another reason, or the host was closed. */
  | 'GT_COMPONENT_SANDBOX';

export interface ComponentErrorOptions extends ErrorOptions {
  /** Registry id of the component concerned. */
  component?: string;
  /** For denials: the capability (`secrets`, `state.write`, `http`, `tenant`, `wasi:random`...). */
  capability?: string;
  /** For denials: the resource asked for (secret key, state key, URL host). */
  resource?: string;
}

export class ComponentError extends Error {
  readonly code: ComponentErrorCode;
  readonly component: string | undefined;
  readonly capability: string | undefined;
  readonly resource: string | undefined;

  constructor(code: ComponentErrorCode, message: string, options: ComponentErrorOptions = {}) {
    const { component, capability, resource, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'ComponentError';
    this.code = code;
    this.component = component;
    this.capability = capability;
    this.resource = resource;
  }

  /** Plain data for crossing a worker boundary. */
  toJSON(): SerializedComponentError {
    return {
      code: this.code,
      message: this.message,
      component: this.component,
      capability: this.capability,
      resource: this.resource,
    };
  }

  static fromJSON(data: SerializedComponentError): ComponentError {
    return new ComponentError(data.code, data.message, {
      component: data.component,
      capability: data.capability,
      resource: data.resource,
    });
  }
}

export interface SerializedComponentError {
  code: ComponentErrorCode;
  message: string;
  component?: string | undefined;
  capability?: string | undefined;
  resource?: string | undefined;
}

/** True when `err` is a {@link ComponentError}, optionally with the given code. */
export function isComponentError(err: unknown, code?: ComponentErrorCode): err is ComponentError {
  return err instanceof ComponentError && (code === undefined || err.code === code);
}
