// The landing-page script, two ways (pixel/ARCHITECTURE.md):
//   dist/d.js               IIFE for <script src>, minified, served at /d.js (entry pixel/tag.ts)
//   dist/esm/index.js + .d.ts  ES module with types for sites that bundle (entry pixel/index.ts)
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
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

export default [
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
];
