// Package the extension as mpac-bridge-<version>.vsix, the version taken from the repository's
// pyproject.toml ([project] version), so there is one version to maintain. package.json keeps a
// placeholder and is never rewritten (vsce --no-update-package-json).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));

export function projectVersion(pyproject) {
  const project = pyproject.split(/^\[/m).find((section) => section.startsWith('project]'));
  const match = project && project.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) {
    throw new Error('no [project] version in pyproject.toml');
  }
  return match[1];
}

const version = projectVersion(readFileSync(join(here, '..', '..', 'pyproject.toml'), 'utf8'));
const out = `mpac-bridge-${version}.vsix`;
const vsce = join(here, 'node_modules', '@vscode', 'vsce', 'vsce');
execFileSync(process.execPath, [vsce, 'package', version, '--no-update-package-json', '--no-git-tag-version',
  '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: here, stdio: 'inherit' });
console.log(out);
