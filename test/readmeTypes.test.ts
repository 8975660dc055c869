// @vitest-environment node
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// Every TypeScript block of the README and of the guides (the catalogue's
// stories/guides/*.mdx pages; fenced blocks in MDX are the same) type-checks as
// an app with the strictest settings would compile it: `strict` plus
// `exactOptionalPropertyTypes` (which the repository's own tsconfig leaves off).
// Blocks quoting a file of examples/ are checked as that file (in place, so its
// relative imports resolve); any other block is written out and checked on its
// own, with the stand-ins below.
const root = process.cwd();
const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'stories/guides'))
    .filter((file) => file.endsWith('.mdx'))
    .map((file) => `stories/guides/${file}`),
];
const examplesDir = path.join(root, 'examples');
const scratch = path.join(root, 'test/.tmp/readme-blocks');

/** Names a block may use without importing them: the app's own functions. */
const STAND_INS = `
/** The app's own token getter (guide "Connect your API": the HTTP client). */
declare function getToken(): Promise<string>;
`;

interface Block {
  /** Where the block lives: README.md or stories/guides/<name>.mdx. */
  doc: string;
  line: number;
  file: string;
}

/** The docs' ts/tsx blocks, each as a file to check (written out into `scratch` unless it quotes an example). */
function docBlocks(): Block[] {
  const examples = new Map(
    readdirSync(examplesDir)
      .filter((file) => /\.tsx?$/.test(file))
      .map((file) => [readFileSync(path.join(examplesDir, file), 'utf8').trim(), path.join(examplesDir, file)] as const),
  );
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(path.join(scratch, 'stand-ins.d.ts'), STAND_INS);
  const blocks: Block[] = [];
  for (const doc of docs) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    for (const match of text.matchAll(/```(ts|tsx)\n([\s\S]*?)```/g)) {
      const line = text.slice(0, match.index).split('\n').length;
      const code = match[2]!.trim();
      let file = examples.get(code);
      if (!file) {
        file = path.join(scratch, `${path.basename(doc).replace(/\.\w+$/, '')}-line-${line}.${match[1]}`);
        // A module of its own, so blocks do not see each other's declarations.
        writeFileSync(file, `${code}\nexport {};\n`);
      }
      blocks.push({ doc, line, file });
    }
  }
  return blocks;
}

/** `file:line: message` for every type error in `files` (errors inside the library's sources are not the docs'). */
function typeErrors(files: string[]): string[] {
  const config = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([...files, path.join(scratch, 'stand-ins.d.ts')], {
    ...options,
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
  });
  const checked = new Set(files.map((file) => path.resolve(file)));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && checked.has(path.resolve(d.file.fileName)))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.relative(root, d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

const blocks = docBlocks();
let errors: string[] = [];

beforeAll(() => {
  errors = typeErrors([...new Set(blocks.map((b) => b.file))]);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README and guide code blocks type-check under strict + exactOptionalPropertyTypes', () => {
  it('finds the blocks, the REST and tRPC client mapping (examples/router-client.ts) among them', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.map((b) => path.basename(b.file))).toContain('router-client.ts');
  });

  it('finds blocks in the README and in every guide but the REST contract (which has none)', () => {
    expect(new Set(blocks.map((b) => b.doc))).toEqual(new Set(docs.filter((doc) => !doc.endsWith('rest-contract.mdx'))));
  });

  it.each(blocks.map((b) => [b.doc, b.line, path.relative(root, b.file), b.file] as const))(
    'the block in %s at line %i (%s)',
    (_doc, _line, _name, file) => {
      const prefix = `${path.relative(root, file)}:`;
      expect(errors.filter((e) => e.startsWith(prefix))).toEqual([]);
    },
  );
});
