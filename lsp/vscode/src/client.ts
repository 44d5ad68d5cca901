// The language client for one workspace folder: `mpac-bridge lsp` over stdio, every file: document,
// the status notification asked for, and crashes handled by the RestartPolicy.

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type ClientCapabilities,
  type FeatureState,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';

import type { RestartPolicy } from './restart';
import { STATUS_NOTIFICATION, type Summary } from './status';

export const CLIENT_ID = 'mpacBridge'; // also the settings section: mpacBridge.trace.server
export const CLIENT_NAME = 'mpac-bridge';

/** Asks the server for mpac/status notifications (client capability experimental.mpacStatus). */
export class StatusCapability implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, mpacStatus: true };
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

export interface ClientParams {
  command: string;
  folder: vscode.WorkspaceFolder;
  initializationOptions: Record<string, unknown>;
  output: vscode.LogOutputChannel;
  policy: RestartPolicy;
  /** False once this client was replaced or stopped on purpose: a pending restart is dropped. */
  isCurrent(): boolean;
  onGiveUp(message: string): void;
  onStatus(summary: Summary): void;
}

/**
 * The library's own error pop-ups are turned into log lines: a crash loop would otherwise raise
 * several notifications per attempt. The person sees the status bar, the server's own messages and,
 * when the restarts are used up, one notification (ClientParams.onGiveUp).
 */
class MpacLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    super.error(message, data, showNotification === 'force' ? false : showNotification);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function createClient(p: ClientParams): LanguageClient {
  const serverOptions: ServerOptions = {
    command: p.command,
    args: ['lsp'],
    transport: TransportKind.stdio,
    options: { cwd: p.folder.uri.fsPath },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }],
    workspaceFolder: p.folder,
    initializationOptions: p.initializationOptions,
    outputChannel: p.output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // the server died before answering initialize: the close handler below decides about restarting
    initializationFailedHandler: (error) => {
      p.output.error(`[mpac-bridge] the language server did not initialize: ${String(error)}`);
      return false;
    },
    errorHandler: {
      // a read or write error on the connection: keep going a few times, then shut down (like the default)
      error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
      closed: async () => {
        if (!p.isCurrent()) {
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        if (!p.policy.onCrash()) {
          const message = p.policy.giveUpMessage();
          p.output.error(`[mpac-bridge] ${message}`);
          p.onGiveUp(message);
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const delay = p.policy.delayMs();
        p.output.warn(`[mpac-bridge] the language server stopped; restarting it in ${delay} ms (restart ${p.policy.recent} of ${p.policy.limit})`);
        await sleep(delay);
        return { action: p.isCurrent() ? CloseAction.Restart : CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  const client = new MpacLanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  client.registerFeature(new StatusCapability());
  client.onNotification(STATUS_NOTIFICATION, (summary: Summary) => p.onStatus(summary));
  return client;
}
