// Makes `require('vscode')` load the mock (import this module before anything that uses vscode).

import Module = require('module');

const mock = require.resolve('./vscode-mock');
const original = (Module as unknown as { _resolveFilename: (...a: unknown[]) => string })._resolveFilename;
(Module as unknown as { _resolveFilename: (...a: unknown[]) => string })._resolveFilename = function (request: unknown, ...rest: unknown[]) {
  return request === 'vscode' ? mock : original.call(this, request, ...rest);
};
