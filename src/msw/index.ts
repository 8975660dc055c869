/**
 * `jobwatch/msw`: MSW handlers serving a job backend over jobwatch's REST
 * contract, for consumer tests (msw/node) and stories (msw/browser). `msw` is
 * an optional peer dependency: install it to use this entry.
 */
export { createJobHandlers, type JobHandlersOptions } from './createJobHandlers';
