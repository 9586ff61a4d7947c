import { describe, expect, it } from 'vitest';
import { capMemory } from './memory-limit.js';

// (module (memory (export "memory") <min> [<max>])) in binary form.
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, min] : [0x01, min, max];
  const memSection = [0x05, limits.length + 1, 0x01, ...limits];
  const exportSection = [0x07, 0x0a, 0x01, 0x06, ...Buffer.from('memory'), 0x02, 0x00];
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...memSection, ...exportSection]);
}

function memoryOf(bytes: Uint8Array): WebAssembly.Memory {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  return instance.exports.memory as WebAssembly.Memory;
}

describe('capMemory', () => {
  it('adds a maximum to a memory that has none, so memory.grow fails past it', () => {
    const { bytes, memories } = capMemory(moduleWithMemory(1), 4);
    expect(memories).toEqual([{ min: 1, max: 4 }]);
    const mem = memoryOf(bytes);
    mem.grow(3);
    expect(() => mem.grow(1)).toThrow(RangeError);
  });

  it('lowers a larger maximum and keeps a smaller one', () => {
    expect(capMemory(moduleWithMemory(1, 100), 8).memories).toEqual([{ min: 1, max: 8 }]);
    expect(capMemory(moduleWithMemory(1, 2), 8).memories).toEqual([{ min: 1, max: 2 }]);
  });

  it('refuses a memory whose initial size is already over the cap', () => {
    expect(() => capMemory(moduleWithMemory(10), 4, 'big')).toThrow(
      expect.objectContaining({ code: 'GT_COMPONENT_MEMORY' }),
    );
  });

  it('leaves modules without memory untouched and rejects non-modules', () => {
    const empty = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect([...capMemory(empty, 4).bytes]).toEqual([...empty]);
    expect(() => capMemory(Uint8Array.from([1, 2, 3, 4]), 4)).toThrow(
      expect.objectContaining({ code: 'GT_COMPONENT_LOAD' }),
    );
  });
});
