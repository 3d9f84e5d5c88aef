// Runs the worker entry point from the TypeScript sources in a child process, so a test can SIGKILL it.
// Sources are compiled on load with swc (already a dependency of the workflow bundler).
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require('../../workers/main.ts');
