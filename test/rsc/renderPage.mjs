// Runs in `node --conditions=react-server --import ./registerClientReferences.mjs renderPage.mjs DIR`:
// DIR holds the README's App Router page (page.mjs) and its app-deps.mjs, compiled from examples/.
// Seeds the store, renders the page (a server component) for a few jobs, prints the elements as JSON.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
const { jobStore } = await import(pathToFileURL(path.join(dir, 'app-deps.mjs')).href);
const { default: JobPage } = await import(pathToFileURL(path.join(dir, 'page.mjs')).href);

jobStore.create({ id: 'done', owner: 'u1' });
jobStore.start('done');
jobStore.complete('done', { url: '/images/done.png' });
jobStore.create({ id: 'running', owner: 'u1' });
jobStore.start('running');
jobStore.progress('running', 0.45, 'Upscaling');
jobStore.create({ id: 'theirs', owner: 'u2' });

const CLIENT_REFERENCE = Symbol.for('react.client.reference');

/** A React element tree as plain data: host tags by name, client references by export name. */
function describe(node) {
  if (Array.isArray(node)) return node.map(describe);
  if (node === null || typeof node !== 'object' || !('props' in node)) return node;
  const { children, ...props } = node.props;
  const { type } = node;
  return {
    type: typeof type === 'string' ? type : type.name,
    clientReference: typeof type === 'function' && type.$$typeof === CLIENT_REFERENCE,
    props,
    children: describe(children),
  };
}

const pages = {};
for (const id of ['done', 'running', 'theirs', 'unknown']) {
  pages[id] = describe(await JobPage({ params: Promise.resolve({ id }) }));
}
process.stdout.write(JSON.stringify(pages));
