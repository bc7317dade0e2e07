// TypeScript (module NodeNext) looks for a .d.mts next to a .mjs, never a .d.ts:
// this re-exports the types written in workload.d.ts.
export * from './workload.js';
