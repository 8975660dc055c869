// @ts-check
// A TypeDoc plugin for jobwatch's API reference (typedoc.json loads it):
// - names each module by the import path users write (`jobwatch/core`, not `core`);
// - leaves out the error classes' `[Symbol.hasInstance]`: `instanceof` calls it,
//   code never does, and each class's own comment says what `instanceof` checks.
import { Converter, ReflectionKind } from 'typedoc';

/** Module name as TypeDoc derives it from the entry point's path → the package entry. */
export const ENTRY_NAMES = {
  index: 'jobwatch',
  core: 'jobwatch/core',
  testing: 'jobwatch/testing',
  server: 'jobwatch/server',
  'server/node': 'jobwatch/server/node',
  msw: 'jobwatch/msw',
  bullmq: 'jobwatch/bullmq',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const method of context.project.getReflectionsByKind(ReflectionKind.Method)) {
      if (method.name === '[hasInstance]') context.project.removeReflection(method);
    }
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      module.name = ENTRY_NAMES[/** @type {keyof typeof ENTRY_NAMES} */ (module.name)] ?? module.name;
    }
  });
}
