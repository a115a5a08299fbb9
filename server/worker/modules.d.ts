// Modules only the worker bundle has, made by rollup.config.mjs at bundle time.

/** The built landing-page script (dist/d.js), as text. */
declare module 'crumb:d.js' {
  const script: string;
  export default script;
}

/** The built console (dist/console/console.js and console.css), as text. */
declare module 'crumb:console.js' {
  const script: string;
  export default script;
}
declare module 'crumb:console.css' {
  const sheet: string;
  export default sheet;
}
