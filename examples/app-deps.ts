// Stand-ins for an app's own modules, so the examples compile and run in tests.
import { createMemoryJobBackend } from 'jobwatch/testing';

/** The app's job store: any JobStore (here the in-memory one). */
export const jobStore = createMemoryJobBackend();

/** The app's auth: who is calling? */
export async function currentUserId(request: Request): Promise<string | null> {
  return request.headers.get('x-user-id');
}

/**
 * The app's auth inside a server component: who is signed in? (In Next.js, read
 * the session from `cookies()`; here the tests set it.)
 */
export async function sessionUserId(): Promise<string | null> {
  return globalThis.process?.env.EXAMPLE_SESSION_USER ?? null;
}
