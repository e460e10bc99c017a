/**
 * `httpcore2/mock`: the scripted backend for deterministic tests.
 * @module
 */
export {
  AsyncMockBackend,
  AsyncMockStream,
  type MockBackendOptions,
  type MockChunk,
} from "../backends/mock.js";
