import { ComponentError } from './errors.js';

/** Wasm page size: 64 KiB. */
export const WASM_PAGE = 65_536;

function readU(bytes: Uint8Array, pos: number): [value: bigint, next: number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated LEB128');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function writeU(value: bigint, out: number[]): void {
  let v = value;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
}

export interface MemoryPatchResult {
  bytes: Uint8Array;
  /** Memories the module defines, with their limits after patching (pages). */
  memories: { min: number; max: number }[];
}

/**
 * Caps every memory a core module defines at `maxPages` by rewriting its memory section (a missing maximum is
 * added, a larger one lowered) before the module is compiled. `memory.grow` past the cap then fails (returns -1),
 * which the component's allocator turns into a trap: Wasm linear memory is not covered by V8's worker
 * `resourceLimits`, so this is how the host bounds it. A memory whose *initial* size is already over the cap is
 * refused with `GT_COMPONENT_MEMORY`. Imported memories are left alone: they are defined (and capped) elsewhere.
 */
export function capMemory(module: Uint8Array, maxPages: number, component = 'component'): MemoryPatchResult {
  if (module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new ComponentError('GT_COMPONENT_LOAD', `core module of "${component}" is not a Wasm module`, {
      component,
    });
  }
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let copyFrom = 8;
  const memories: { min: number; max: number }[] = [];
  let pos = 8;
  const cap = BigInt(maxPages);
  while (pos < module.length) {
    const id = module[pos]!;
    const [size, bodyStart] = readU(module, pos + 1);
    const bodyEnd = bodyStart + Number(size);
    if (id !== 5) {
      pos = bodyEnd;
      continue;
    }
    if (pos > copyFrom) parts.push(module.subarray(copyFrom, pos));
    const body: number[] = [];
    let p = bodyStart;
    const [count, afterCount] = readU(module, p);
    p = afterCount;
    writeU(count, body);
    for (let m = 0n; m < count; m++) {
      const flags = module[p++]!;
      if (flags & 0x08) {
        throw new ComponentError(
          'GT_COMPONENT_ABI',
          `"${component}" uses custom memory page sizes, which this host does not support`,
          { component },
        );
      }
      const [min, afterMin] = readU(module, p);
      p = afterMin;
      let max: bigint | undefined;
      if (flags & 0x01) {
        const [mx, afterMax] = readU(module, p);
        max = mx;
        p = afterMax;
      }
      if (min > cap) {
        throw new ComponentError(
          'GT_COMPONENT_MEMORY',
          `"${component}" declares an initial memory of ${Number(min) / 16} MiB, over its limit of ${maxPages / 16} MiB: raise limits.memory_mb in its manifest or the host's memoryMb`,
          { component },
        );
      }
      const newMax = max === undefined || max > cap ? cap : max;
      body.push(flags | 0x01);
      writeU(min, body);
      writeU(newMax, body);
      memories.push({ min: Number(min), max: Number(newMax) });
    }
    if (p !== bodyEnd)
      throw new ComponentError('GT_COMPONENT_LOAD', `memory section of "${component}" is malformed`, {
        component,
      });
    const header: number[] = [5];
    writeU(BigInt(body.length), header);
    parts.push(Uint8Array.from(header), Uint8Array.from(body));
    pos = bodyEnd;
    copyFrom = bodyEnd;
  }
  if (copyFrom < module.length) parts.push(module.subarray(copyFrom));
  return { bytes: new Uint8Array(Buffer.concat(parts)) as Uint8Array<ArrayBuffer>, memories };
}
