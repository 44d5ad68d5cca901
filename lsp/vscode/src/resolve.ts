// Which `mpac-bridge` executable to run: the mpacBridge.command setting, else the workspace's
// .venv, else PATH. Pure apart from the injected file check, so it is tested without VS Code.

import * as path from 'path';

export const INSTALL_HINT =
  'Install it with `pipx install <path to your mpac-bridge checkout>` (or `python3 -m pip install ' +
  '<path to your mpac-bridge checkout>` inside the workspace\'s .venv), or set mpacBridge.command ' +
  'to the full path of the mpac-bridge executable.';

export interface Host {
  platform: string; // process.platform
  env: Record<string, string | undefined>; // process.env (PATH, PATHEXT)
  isExecutable(file: string): boolean;
}

export type Resolution =
  | { ok: true; command: string; source: 'setting' | 'venv' | 'path' }
  | { ok: false; message: string };

function venvCandidates(folder: string, platform: string): string[] {
  return platform === 'win32'
    ? [path.win32.join(folder, '.venv', 'Scripts', 'mpac-bridge.exe')]
    : [path.posix.join(folder, '.venv', 'bin', 'mpac-bridge')];
}

/** The first PATH entry holding an executable `name` (with PATHEXT extensions on Windows). */
export function which(name: string, host: Host): string | undefined {
  const win = host.platform === 'win32';
  const p = win ? path.win32 : path.posix;
  const dirs = (host.env.PATH ?? host.env.Path ?? '').split(win ? ';' : ':').filter((d) => d !== '');
  const exts = win ? ['', ...(host.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter((e) => e !== '')] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = p.join(dir, name + ext.toLowerCase());
      if (host.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** Resolve the command for a workspace folder (undefined: no folder open). */
export function resolveCommand(setting: string | undefined, folder: string | undefined, host: Host): Resolution {
  const configured = (setting ?? '').trim();
  if (configured !== '') {
    const p = host.platform === 'win32' ? path.win32 : path.posix;
    const hasDir = configured.includes('/') || (host.platform === 'win32' && configured.includes('\\'));
    if (hasDir) {
      const full = p.isAbsolute(configured) || folder === undefined ? configured : p.join(folder, configured);
      if (host.isExecutable(full)) {
        return { ok: true, command: full, source: 'setting' };
      }
      return { ok: false, message: `mpacBridge.command is set to ${configured}, but ${full} is not an executable file. ${INSTALL_HINT}` };
    }
    const found = which(configured, host);
    if (found !== undefined) {
      return { ok: true, command: found, source: 'setting' };
    }
    return { ok: false, message: `mpacBridge.command is set to ${configured}, which is not on PATH. ${INSTALL_HINT}` };
  }
  if (folder !== undefined) {
    for (const candidate of venvCandidates(folder, host.platform)) {
      if (host.isExecutable(candidate)) {
        return { ok: true, command: candidate, source: 'venv' };
      }
    }
  }
  const found = which('mpac-bridge', host);
  if (found !== undefined) {
    return { ok: true, command: found, source: 'path' };
  }
  return { ok: false, message: `mpac-bridge was not found (not in mpacBridge.command, the workspace's .venv or PATH). ${INSTALL_HINT}` };
}
