// The landing-page script, two ways (pixel/ARCHITECTURE.md):
//   dist/d.js               IIFE for <script src>, minified, served at /d.js (entry pixel/tag.ts)
//   dist/esm/index.js + .d.ts  ES module with types for sites that bundle (entry pixel/index.ts)
//   dist/console/console.js + console.css  the console (entry server/console/ui/main.ts; uPlot bundled in)
// and, with `--environment BUILD:worker` (npm run build:worker, after npm run build):
//   dist/worker.js          the Cloudflare Workers entry, one ES module (entry server/worker.ts)
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const tsconfig = 'pixel/tsconfig.json';

/** A TypeScript transformer for the minified build: `const` declarations become `let`, so that
 * terser can join every declaration of the bundle into one statement. Safe: the type check has
 * already proved that no const binding is reassigned. */
const constToLet = (context) => (file) => {
  const visit = (node) =>
    ts.isVariableDeclarationList(node) && node.flags & ts.NodeFlags.Const
      ? ts.factory.createVariableDeclarationList(ts.visitNodes(node.declarations, visit), ts.NodeFlags.Let)
      : ts.visitEachChild(node, visit, context);
  return ts.visitNode(file, visit);
};

/** `import dJs from 'crumb:d.js'` (server/worker.ts): the built script, as text in the bundle. */
const dJsText = {
  name: 'd-js-text',
  resolveId: (id) => (id === 'crumb:d.js' ? '\0crumb:d.js' : null),
  load(id) {
    if (id !== '\0crumb:d.js') return null;
    return `export default ${JSON.stringify(readFileSync('dist/d.js', 'utf8'))};`;
  },
};

/** `import consoleJs from 'crumb:console.js'` and `crumb:console.css` (server/worker.ts): the built
 * console, as text in the bundle. */
const consoleText = {
  name: 'console-text',
  resolveId: (id) => (id === 'crumb:console.js' || id === 'crumb:console.css' ? `\0${id}` : null),
  load(id) {
    if (id !== '\0crumb:console.js' && id !== '\0crumb:console.css') return null;
    return `export default ${JSON.stringify(readFileSync(`dist/console/${id.slice('\0crumb:'.length)}`, 'utf8'))};`;
  },
};

/** The console's style sheet: uPlot's, then ours, one file (the page's CSP allows only 'self'). */
const consoleCss = {
  name: 'console-css',
  generateBundle() {
    const css = readFileSync('node_modules/uplot/dist/uPlot.min.css', 'utf8') + '\n' + readFileSync('server/console/ui/console.css', 'utf8');
    this.emitFile({ type: 'asset', fileName: 'console.css', source: css });
  },
};

/** The console: a browser build of its own (ES2020, no budget: it is not on anyone's landing page). */
const consoleBuild = {
  input: 'server/console/ui/main.ts',
  plugins: [nodeResolve({ browser: true }), typescript({ tsconfig: 'server/console/ui/tsconfig.json' }), consoleCss],
  output: { dir: 'dist/console', entryFileNames: 'console.js', format: 'iife', plugins: [terser({ ecma: 2020, format: { comments: false } })] },
};

/** The Workers bundle: everything the app core imports, and nothing Node-only (no node: module, no
 * nodejs_compat flag): a module that needs Node fails the build here instead of the deploy. */
const worker = {
  input: 'server/worker.ts',
  plugins: [
    dJsText,
    consoleText,
    {
      name: 'no-node',
      resolveId(id, importer) {
        if (id.startsWith('node:') || ['fs', 'path', 'crypto', 'http', 'url', 'util', 'os', 'net'].includes(id)) {
          this.error(`${importer} imports ${id}, which Workers do not have: inject it from node.ts instead (server/ARCHITECTURE.md)`);
        }
        return null;
      },
    },
    nodeResolve({ exportConditions: ['workerd', 'worker', 'browser'], preferBuiltins: false }),
    typescript({
      tsconfig: 'server/tsconfig.json',
      // Types are checked by `npm run typecheck` (and npm test); here the sources are only transpiled.
      compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', outDir: 'dist', sourceMap: false, declaration: false, noCheck: true },
    }),
  ],
  output: { file: 'dist/worker.js', format: 'es', plugins: [terser({ ecma: 2022, module: true, format: { comments: false } })] },
  onwarn(warning, warn) {
    // zod's comments that rollup cannot read as annotations, and the API's modules importing each
    // other's types: neither changes the bundle.
    if (warning.code === 'INVALID_ANNOTATION' || warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
};

export default process.env.BUILD === 'worker' ? [worker] : [
  {
    input: 'pixel/tag.ts',
    plugins: [typescript({ tsconfig, transformers: { before: [{ type: 'program', factory: () => constToLet }] } })],
    output: {
      file: 'dist/d.js',
      format: 'iife',
      // Every name is declared (TypeScript checks it), so "use strict" would only cost bytes.
      strict: false,
      plugins: [
        terser({
          ecma: 2017,
          compress: { passes: 3, unsafe: true, unsafe_arrows: true, pure_getters: true },
          format: { comments: false },
        }),
      ],
    },
  },
  {
    input: 'pixel/index.ts',
    plugins: [typescript({ tsconfig, declaration: true, declarationDir: 'dist/esm', outDir: 'dist/esm' })],
    output: {
      dir: 'dist/esm',
      format: 'es',
      // tag.ts is the script tag's entry, not part of this build's API.
      plugins: [{ name: 'drop-tag-types', generateBundle: (_, bundle) => void delete bundle['tag.d.ts'] }],
    },
  },
  consoleBuild,
];
