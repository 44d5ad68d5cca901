// A minimal extension host in node: loads the BUILT extension (dist/extension.js) against the
// vscode mock, so its real vscode-languageclient starts the real `mpac-bridge lsp` over stdio.
// Driven by tests/lsp/test_vscode_host.py with JSON lines on stdin; answers and events (diagnostics,
// the status bar, messages, the log) are JSON lines on stdout.
//
//   {"id": 1, "op": "activate", "folder": "/repo", "settings": {"mpacBridge.watch": "off"}}
//   {"id": 2, "op": "open", "path": "/repo/src/app.py"}
//   {"id": 3, "op": "codeActions", "path": "/repo/src/app.py"}
//   {"id": 4, "op": "command", "command": "mpacBridge.claimFile", "args": []}   ({"uri": path} -> a Uri)
//   {"id": 5, "op": "state"}      {"op": "answer", "answers": ["Restart"], "pick": 1}
//   {"id": 6, "op": "settings", "values": {...}}     {"id": 7, "op": "deactivate"}

import './register';

import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import * as vscode from 'vscode';

import * as mock from './vscode-mock';

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
mock.loadDefaults(manifest);

function send(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function diag(d: mock.Diagnostic): Record<string, unknown> {
  const code = typeof d.code === 'object' && d.code !== null ? d.code.value : d.code;
  return { message: d.message, severity: d.severity, code, source: d.source, line: d.range.start.line };
}

mock.recorded.onDiagnostics = (uri, items) => send({ event: 'diagnostics', uri, items: items.map(diag) });
mock.recorded.onMessage = (m) => send({ event: 'message', kind: m.kind, message: m.message, options: m.options });
// one event per render: the item's fields are set one by one, the event is sent once they all are
let lastStatus = '';
let statusQueued = false;
mock.recorded.onStatus = (item) => {
  if (statusQueued) {
    return;
  }
  statusQueued = true;
  queueMicrotask(() => {
    statusQueued = false;
    const status = JSON.stringify({ event: 'status', text: item.text, tooltip: item.tooltip, warning: item.backgroundColor !== undefined });
    if (status !== lastStatus) {
      lastStatus = status;
      process.stdout.write(`${status}\n`);
    }
  });
};
const push = mock.recorded.output.push.bind(mock.recorded.output);
mock.recorded.output.push = (...lines: string[]) => {
  lines.forEach((line) => send({ event: 'log', line }));
  return push(...lines);
};

type Ext = { activate(c: unknown): Promise<void>; deactivate(): Promise<void> };
let ext: Ext | undefined;
const context = { subscriptions: [] as { dispose(): unknown }[], extensionPath: root, extensionUri: vscode.Uri.file(root) };

function document(p: string): mock.TextDocument {
  const doc = mock.state.documents.find((d) => d.uri.fsPath === p);
  if (doc === undefined) {
    throw new Error(`${p} is not open`);
  }
  return doc;
}

function plain(value: unknown): unknown {
  if (value instanceof mock.Uri) {
    return value.toString();
  }
  if (Array.isArray(value)) {
    return value.map(plain);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const ops: Record<string, (msg: Record<string, unknown>) => Promise<unknown> | unknown> = {
  async activate(msg) {
    const folder = msg.folder as string;
    mock.state.folders = [{ uri: vscode.Uri.file(folder), name: path.basename(folder), index: 0 }];
    Object.assign(mock.settings.user, (msg.settings as Record<string, unknown>) ?? {});
    ext = require(path.join(root, 'dist', 'extension.js')) as Ext;
    await ext.activate(context);
    return { contexts: mock.recorded.contexts };
  },
  open(msg) {
    const p = msg.path as string;
    mock.openDocument(p, fs.readFileSync(p, 'utf8'), 'python');
    return { uri: vscode.Uri.file(p).toString() };
  },
  async codeActions(msg) {
    const doc = document(msg.path as string);
    const diagnostics = mock.recorded.diagnostics.flatMap((c) => c.get(doc.uri));
    const out: unknown[] = [];
    for (const { provider } of mock.recorded.codeActionProviders) {
      const token = new mock.CancellationTokenSource().token;
      const context = { diagnostics, triggerKind: mock.CodeActionTriggerKind.Invoke, only: undefined };
      const actions = ((await provider.provideCodeActions(doc, new mock.Range(0, 0, 0, 0), context, token)) ?? []) as mock.CodeAction[];
      for (const a of actions) {
        out.push({ title: a.title, kind: a.kind?.value, command: a.command ? { command: a.command.command, arguments: plain(a.command.arguments) } : undefined });
      }
    }
    return out;
  },
  async command(msg) {
    const args = ((msg.args as unknown[]) ?? []).map((a) =>
      a !== null && typeof a === 'object' && 'uri' in (a as object) ? vscode.Uri.file((a as { uri: string }).uri) : a,
    );
    return plain(await vscode.commands.executeCommand(msg.command as string, ...args));
  },
  answer(msg) {
    mock.recorded.answers.push(...((msg.answers as string[]) ?? []));
    mock.recorded.pick = msg.pick as number | undefined;
    return true;
  },
  settings(msg) {
    mock.changeSettings(msg.values as Record<string, unknown>);
    return true;
  },
  state() {
    const item = mock.recorded.statusItems[0];
    return plain({
      status: item ? { text: item.text, tooltip: item.tooltip, command: item.command, visible: item.visible } : undefined,
      messages: mock.recorded.messages,
      terminals: mock.recorded.terminals,
      quickPicks: mock.recorded.quickPicks,
      commandsRun: mock.recorded.commandsRun,
      unmocked: [...mock.recorded.unmocked].sort(),
    });
  },
  async deactivate() {
    await ext?.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    return true;
  },
};

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const msg = JSON.parse(line) as Record<string, unknown>;
  Promise.resolve()
    .then(() => ops[msg.op as string](msg))
    .then(
      (result) => send({ id: msg.id, result: result ?? null }),
      (err: unknown) => send({ id: msg.id, error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) }),
    );
});
lines.on('close', () => {
  void Promise.resolve(ext?.deactivate()).finally(() => process.exit(0));
});
