/**
 * The indexer service's public surface for the composition roots (`npm start`), tools and tests:
 * start it on opened dependencies. Named re-exports only.
 */
export { startIndexer, type StartIndexerParameters } from "./runtime/start-indexer.ts";
export type { Indexer } from "./runtime/create-indexer.ts";
export type { IndexedContracts } from "./decode/decode-log.ts";
