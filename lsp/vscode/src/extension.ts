// Entry point: for the first workspace folder that is a git repository, start `mpac-bridge lsp`,
// show the session in the status bar and contribute the commands. Activated only by
// `workspaceContains:.git` (package.json); its commands are hidden elsewhere.

import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient, State } from 'vscode-languageclient/node';

import { createClient } from './client';
import { claimOrRelease, COMMANDS, openDashboard, type Session, showSession, whoIsEditing } from './commands';
import { type Config, dashboardLaunch, initializationOptions, needsRestart, SECTION } from './config';
import { type Resolution, resolveCommand } from './resolve';
import { RestartPolicy } from './restart';
import { barState, type Summary } from './status';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The folder to coordinate: the first one with a .git (directory, or file for a worktree). */
export function repositoryFolder(folders: readonly vscode.WorkspaceFolder[] | undefined): vscode.WorkspaceFolder | undefined {
  return (folders ?? []).find((f) => f.uri.scheme === 'file' && fs.existsSync(path.join(f.uri.fsPath, '.git')));
}

export class Controller implements Session, vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('mpac-bridge', { log: true });
  readonly item = vscode.window.createStatusBarItem('mpacBridge.status', vscode.StatusBarAlignment.Left, 50);
  readonly policy = new RestartPolicy();
  private client: LanguageClient | undefined;
  private resolution: Resolution | undefined;
  private summary: Summary | undefined;
  private state: 'starting' | 'running' | 'stopped' | 'not-found' = 'starting';
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly folder: vscode.WorkspaceFolder | undefined) {
    this.item.name = 'mpac-bridge';
    this.item.command = COMMANDS.session;
    this.render();
    this.item.show();
    this.disposables.push(
      vscode.commands.registerCommand(COMMANDS.claim, (arg?: unknown) => claimOrRelease(this, 'mpac.claim', arg)),
      vscode.commands.registerCommand(COMMANDS.release, (arg?: unknown) => claimOrRelease(this, 'mpac.release', arg)),
      vscode.commands.registerCommand(COMMANDS.who, (arg?: unknown) => whoIsEditing(this, arg)),
      vscode.commands.registerCommand(COMMANDS.session, () => showSession(this)),
      vscode.commands.registerCommand(COMMANDS.dashboard, () => openDashboard(this)),
      vscode.commands.registerCommand(COMMANDS.restart, () => this.restart(true)),
      vscode.commands.registerCommand(COMMANDS.log, () => this.output.show()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (needsRestart((section) => e.affectsConfiguration(section, this.folder?.uri))) {
          this.output.appendLine('[mpac-bridge] settings changed; restarting the language server');
          void this.restart(true);
        }
      }),
    );
  }

  private config(): Config {
    return vscode.workspace.getConfiguration(SECTION, this.folder?.uri);
  }

  private render(): void {
    const s = barState(this.summary, this.state);
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.backgroundColor = s.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  private resolve(): Resolution {
    this.resolution = resolveCommand(this.config().get<string>('command'), this.folder?.uri.fsPath, {
      platform: process.platform,
      env: process.env,
      isExecutable,
    });
    return this.resolution;
  }

  private notFound(message: string): void {
    const settings = 'Open Settings';
    void vscode.window.showErrorMessage(message, settings).then((choice) => {
      if (choice === settings) {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.command`);
      }
    });
  }

  async start(): Promise<void> {
    const found = this.resolve();
    if (!found.ok) {
      this.state = 'not-found';
      this.render();
      this.output.appendLine(`[mpac-bridge] ${found.message}`);
      this.notFound(found.message);
      return;
    }
    if (this.folder === undefined) {
      return;
    }
    this.output.appendLine(`[mpac-bridge] starting ${found.command} lsp (from the ${found.source === 'setting' ? 'mpacBridge.command setting' : found.source === 'venv' ? "workspace's .venv" : 'PATH'}) for ${this.folder.uri.fsPath}`);
    this.state = 'starting';
    this.summary = undefined;
    this.render();
    const client = createClient({
      command: found.command,
      folder: this.folder,
      initializationOptions: initializationOptions(this.config()),
      output: this.output,
      policy: this.policy,
      isCurrent: () => this.client === client,
      onGiveUp: (message) => this.gaveUp(message),
      onStatus: (summary) => {
        this.summary = summary;
        this.render();
      },
    });
    this.client = client;
    client.onDidChangeState((e) => {
      if (client !== this.client) {
        return;
      }
      this.state = e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped';
      if (e.newState !== State.Running) {
        this.summary = undefined;
      }
      this.render();
    });
    try {
      await client.start();
    } catch (err) {
      this.output.appendLine(`[mpac-bridge] the language server did not start: ${String(err)}`);
    }
  }

  private gaveUp(message: string): void {
    const restart = 'Restart';
    const log = 'Show Log';
    void vscode.window.showErrorMessage(message, restart, log).then((choice) => {
      if (choice === restart) {
        void this.restart(true);
      } else if (choice === log) {
        this.output.show();
      }
    });
  }

  async restart(byPerson: boolean): Promise<void> {
    if (byPerson) {
      this.policy.reset();
    }
    const old = this.client;
    this.client = undefined;
    if (old !== undefined) {
      try {
        await old.dispose(); // stops it first when it runs
      } catch (err) {
        this.output.appendLine(`[mpac-bridge] stopping the old server: ${String(err)}`);
      }
    }
    await this.start();
  }

  execute(command: string, args: unknown[]): Promise<unknown> | undefined {
    if (this.state === 'not-found' && this.resolution !== undefined && !this.resolution.ok) {
      this.notFound(this.resolution.message);
      return undefined;
    }
    if (this.client === undefined || !this.client.isRunning()) {
      const log = 'Show Log';
      void vscode.window.showWarningMessage('mpac-bridge: the language server is not running.', log).then((c) => {
        if (c === log) {
          this.output.show();
        }
      });
      return undefined;
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args as never[] });
  }

  latest(): Summary | undefined {
    return this.summary;
  }

  dashboard(): { command: string; args: string[]; env: Record<string, string> } | undefined {
    const found = this.resolution?.ok ? this.resolution : this.resolve();
    if (!found.ok) {
      this.notFound(found.message);
      return undefined;
    }
    return { command: found.command, ...dashboardLaunch(this.config()) };
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined && client.needsStop()) {
      await client.stop();
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    this.item.dispose();
    this.output.dispose();
  }
}

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const folder = repositoryFolder(vscode.workspace.workspaceFolders);
  if (folder === undefined) {
    return; // activated for a .git that is not a workspace folder's own: nothing to coordinate
  }
  await vscode.commands.executeCommand('setContext', 'mpacBridge.active', true);
  controller = new Controller(folder);
  context.subscriptions.push(controller);
  await controller.start();
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.stop();
}
