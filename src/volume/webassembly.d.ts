// The few WebAssembly JS API declarations the SIMD kernels (simd-kernel.ts, sampling-simd.ts) use. TypeScript has them only in its DOM
// library, which this Node project does not load.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: Uint8Array);
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number });
      readonly buffer: ArrayBuffer;
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
  }
}
export {};
