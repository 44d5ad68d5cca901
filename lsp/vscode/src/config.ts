// The mpacBridge.* settings and what they become: the language server's initialization options
// (the keys lsp/settings.py reads, same names) and the dashboard's environment.

/** The part of vscode.WorkspaceConfiguration used here (a mock implements it in the tests). */
export interface Config {
  get<T>(key: string): T | undefined;
  inspect<T>(key: string): { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined;
}

export const SECTION = 'mpacBridge';

/** Settings passed to the server under the same name, as lsp/settings.py reads them. */
export const SERVER_OPTIONS = [
  'coordinatorUrl',
  'token',
  'sessionId',
  'user',
  'autoAnnounce',
  'autoAnnounceIdleSec',
  'debounceMs',
  'watch',
] as const;

/** Settings only the extension reads. */
export const EXTENSION_ONLY = ['command', 'trace.server'] as const;

function userSet(config: Config, key: string): boolean {
  const seen = config.inspect(key);
  return seen !== undefined && (seen.globalValue !== undefined || seen.workspaceValue !== undefined || seen.workspaceFolderValue !== undefined);
}

/**
 * The initialization options: every server option the person set (in any settings scope). An
 * empty string counts as not set (the server then reads MPAC_COORDINATOR_URL and friends from its
 * environment); what is not set is left out, so the server's own default applies.
 */
export function initializationOptions(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_OPTIONS) {
    const value = config.get<unknown>(key);
    if (value === undefined || value === null || !userSet(config, key)) {
      continue;
    }
    if (typeof value !== 'string') {
      out[key] = value;
    } else if (value.trim() !== '') {
      out[key] = value.trim();
    }
  }
  return out;
}

/**
 * Arguments and environment overrides for `mpac-bridge dashboard` (VS Code adds them to its own
 * environment), so that it watches the session the server joined.
 */
export function dashboardLaunch(config: Config): { args: string[]; env: Record<string, string> } {
  const opts = initializationOptions(config);
  const env: Record<string, string> = {};
  const vars: Record<string, string> = { coordinatorUrl: 'MPAC_COORDINATOR_URL', token: 'MPAC_COORDINATOR_TOKEN', sessionId: 'MPAC_SESSION_ID' };
  for (const [key, name] of Object.entries(vars)) {
    if (typeof opts[key] === 'string') {
      env[name] = opts[key] as string;
    }
  }
  const args = ['dashboard'];
  if (typeof opts.user === 'string') {
    args.push('--as', opts.user);
  }
  return { args, env };
}

/** True when a configuration change needs the server restarted (initialization options changed). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return [...SERVER_OPTIONS, 'command'].some((key) => affects(`${SECTION}.${key}`));
}
