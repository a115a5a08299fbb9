// Modules only the worker bundle has, made by rollup.config.mjs at bundle time.

/** The built landing-page script (dist/d.js), as text. */
declare module 'crumb:d.js' {
  const script: string;
  export default script;
}
