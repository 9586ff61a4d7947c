/// <reference types="@greentic/interfaces/wit-types/guest/tool.d.ts" />
/**
 * The guest side of a Greentic component written in TypeScript: `defineComponent` turns a table of operations into
 * the `greentic:component/node@0.6.0` export (`describe`, `invoke` with CBOR payloads), and `http`, `secrets`,
 * `state`, `log` and `shouldCancel` wrap the host imports of the `greentic:component/tool@0.6.0` world.
 *
 * This module runs inside the component (ComponentizeJS / StarlingMonkey): no Node APIs, and every host call is
 * synchronous. `greentic-component build` bundles it into the component (import it as
 * `@greentic/component-cli/guest`).
 *
 * ```ts
 * import { defineComponent, fail, http } from '@greentic/component-cli/guest';
 * export const node = defineComponent({
 *   name: 'hello', version: '0.1.0',
 *   ops: { greet: { run: (input: { name?: string }) => ({ text: `Hello ${input.name ?? 'world'}!` }) } },
 * });
 * ```
 */
export * from './host.js';
export * from './node.js';
