/** @module Interface greentic:component/control@0.6.0 **/
/**
 * True once the host wants the current call to stop (caller cancelled, deadline near). Poll it in loops.
 */
export function shouldCancel(): boolean;
/**
 * A hint that the component is at a safe point; the host may use it to check deadlines.
 */
export function yieldNow(): void;
