// The keys are defined once, in jobwatch/core (server components import them from there).
export { createJobKeys, jobKeys, type JobKeys } from '../core/jobKeys';
