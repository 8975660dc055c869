// Node module hooks that treat "use client" modules as a React Server Components
// bundler does (Next.js App Router): a server component importing one gets client
// references, never the module's code. Rendering a reference is fine; calling one
// throws, as the 500 a Next.js page gets when it calls a client function.

const USE_CLIENT = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(['"])use client\1/;

/** The names an ES module exports, for the export forms esbuild and tsc emit. */
function exportNames(source, url) {
  const names = new Set();
  for (const [, list] of source.matchAll(/\bexport\s*\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const name = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()?.trim();
      if (name) names.add(name);
    }
  }
  for (const [, name] of source.matchAll(/\bexport\s+(?:async\s+)?(?:function\*?|class|const|let|var)\s+([\w$]+)/g)) names.add(name);
  if (/\bexport\s+default\b/.test(source)) names.add('default');
  if (/\bexport\s*\*/.test(source)) throw new Error(`clientReferenceHooks: cannot list the exports of ${url} (export *)`);
  return [...names];
}

function stub(url, names) {
  const lines = [
    'function clientReference(name) {',
    '  const reference = function () {',
    `    throw new Error('Attempted to call ' + name + '() from the server but ' + name + ' is on the client (' + ${JSON.stringify(url)} + ').');`,
    '  };',
    "  Object.defineProperties(reference, { $$typeof: { value: Symbol.for('react.client.reference') }, $$id: { value: " +
      `${JSON.stringify(url)} + '#' + name }, name: { value: name } });`,
    '  return reference;',
    '}',
  ];
  for (const name of names) {
    if (name === 'default') lines.push("export default clientReference('default');");
    else lines.push(`export const ${name} = clientReference(${JSON.stringify(name)});`);
  }
  return lines.join('\n');
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (result.format !== 'module' || result.source == null) return result;
  const source = String(result.source);
  if (!USE_CLIENT.test(source)) return result;
  return { format: 'module', source: stub(url, exportNames(source, url)), shortCircuit: true };
}
