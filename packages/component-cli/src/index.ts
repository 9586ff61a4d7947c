export {
  type BuildOptions,
  type BuildResult,
  blake3Hex,
  buildComponent,
  bundle,
  defaultBuildCacheDir,
  type EngineFeature,
  sha256Hex,
} from './build.js';
export { type ComponentCliIO, EXIT_FAILED, EXIT_OK, EXIT_USAGE, runComponentCli } from './cli.js';
export { ComponentCliError, type ComponentCliErrorCode } from './errors.js';
export {
  type ComponentInfo,
  formatSize,
  inspectComponent,
  inspectComponentFile,
  parseWorld,
  wasmKind,
  worldOf,
} from './inspect.js';
export {
  type ComponentProject,
  DEFAULT_ENTRIES,
  fileNameOf,
  MANIFEST_FILE,
  readProject,
  validateManifest,
} from './project.js';
export {
  type HttpRecord,
  type TestComponentOptions,
  type TestComponentResult,
  testComponent,
} from './run.js';
export { COMPONENT_NAME, type ScaffoldResult, scaffoldComponent } from './scaffold.js';
export {
  GUEST_ENTRY,
  GUEST_NODE_ENTRY,
  GUEST_SPECIFIER,
  packageDir,
  packageVersion,
  type ToolVersions,
  toolVersions,
} from './toolchain.js';
export { type WitSource, WORLDS, type WorldName, witSource } from './wit.js';
