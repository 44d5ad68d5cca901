// The extension's commands: claim / release / who is editing this file (the server's mpac.claim,
// mpac.release and mpac.showWho), the session list behind the status bar item, and the dashboard
// in a terminal.

import * as vscode from 'vscode';

import { sessionItems, STATUS_COMMAND, type Summary } from './status';

export const COMMANDS = {
  claim: 'mpacBridge.claimFile',
  release: 'mpacBridge.releaseFile',
  who: 'mpacBridge.whoIsEditing',
  session: 'mpacBridge.showSession',
  dashboard: 'mpacBridge.openDashboard',
  restart: 'mpacBridge.restartServer',
  log: 'mpacBridge.showLog',
} as const;

/** What the commands need from the running extension (the Controller; a fake in the tests). */
export interface Session {
  readonly folder: vscode.WorkspaceFolder | undefined;
  /** Run a server command; undefined when the server is not running (the person was told why). */
  execute(command: string, args: unknown[]): Promise<unknown> | undefined;
  latest(): Summary | undefined;
  /** The resolved executable and the dashboard's arguments; undefined (and told) when not found. */
  dashboard(): { command: string; args: string[]; env: Record<string, string> } | undefined;
}

interface Reply {
  ok?: boolean;
  message?: string;
}

/** The file a command is about: the Explorer's selection, else the active editor's document. */
export function targetFile(arg: unknown): vscode.Uri | undefined {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (uri === undefined || uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('mpac-bridge: open a file of the repository first (or pick one in the Explorer).');
    return undefined;
  }
  return uri;
}

async function runOnFile(session: Session, serverCommand: string, arg: unknown, extra: unknown[] = []): Promise<Reply | undefined> {
  const uri = targetFile(arg);
  if (uri === undefined) {
    return undefined;
  }
  const pending = session.execute(serverCommand, [uri.toString(), ...extra]);
  if (pending === undefined) {
    return undefined;
  }
  return ((await pending) ?? {}) as Reply;
}

/** Claim or release: the server shows a refusal itself; a success is confirmed here. */
export async function claimOrRelease(session: Session, serverCommand: 'mpac.claim' | 'mpac.release', arg?: unknown): Promise<Reply | undefined> {
  const reply = await runOnFile(session, serverCommand, arg);
  if (reply?.ok && reply.message) {
    void vscode.window.showInformationMessage(`mpac-bridge: ${reply.message}`);
  }
  return reply;
}

export async function whoIsEditing(session: Session, arg?: unknown): Promise<Reply | undefined> {
  const reply = await runOnFile(session, 'mpac.showWho', arg, [{ show: false }]);
  if (reply?.ok && reply.message) {
    const [first, ...rest] = reply.message.split('\n');
    void vscode.window.showInformationMessage(`Who is editing ${first.replace(/:$/, '')}`, {
      modal: true,
      detail: rest.map((line) => line.trim()).join('\n'),
    });
  }
  return reply;
}

/** The list behind the status bar item; picking a row opens its file. */
export async function showSession(session: Session): Promise<void> {
  const pending = session.execute(STATUS_COMMAND, []);
  if (pending === undefined) {
    return;
  }
  let summary = session.latest();
  try {
    summary = ((await pending) as Summary | undefined) ?? summary;
  } catch {
    // keep the last notification's summary
  }
  if (summary === undefined) {
    void vscode.window.showInformationMessage('mpac-bridge: not in a coordination session yet.');
    return;
  }
  if (summary.error) {
    void vscode.window.showErrorMessage(summary.error);
    return;
  }
  const items = sessionItems(summary).map((i) => ({
    ...i,
    kind: i.kind === 'separator' ? vscode.QuickPickItemKind.Separator : undefined,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: `mpac-bridge: who holds what (session ${summary.sessionId})`, matchOnDescription: true, matchOnDetail: true });
  if (picked?.file !== undefined && session.folder !== undefined) {
    await vscode.window.showTextDocument(vscode.Uri.joinPath(session.folder.uri, picked.file));
  }
}

let dashboardTerminal: vscode.Terminal | undefined;

/** `mpac-bridge dashboard` in a VS Code terminal (the same one again while it runs). */
export function openDashboard(session: Session): vscode.Terminal | undefined {
  if (dashboardTerminal !== undefined && dashboardTerminal.exitStatus === undefined) {
    dashboardTerminal.show();
    return dashboardTerminal;
  }
  const launch = session.dashboard();
  if (launch === undefined) {
    return undefined;
  }
  dashboardTerminal = vscode.window.createTerminal({
    name: 'mpac-bridge dashboard',
    shellPath: launch.command,
    shellArgs: launch.args,
    cwd: session.folder?.uri.fsPath,
    env: launch.env,
  });
  dashboardTerminal.show();
  return dashboardTerminal;
}
