// A small stand-in for the `vscode` module: enough of the API for the extension's own code (unit
// tests) and for vscode-languageclient to start, sync documents, take diagnostics and offer code
// actions (the node host in host.ts). Everything it is asked to show is recorded in `recorded`;
// an API it does not implement is a no-op listed in `recorded.unmocked`.

import {
  CancellationTokenSource,
  Diagnostic,
  Disposable,
  EndOfLine,
  EventEmitter,
  LogLevel,
  Position,
  Range,
  ThemeColor,
  UIKind,
  Uri,
} from './vscode-classes';

export * from './vscode-classes';

// --- documents -------------------------------------------------------------------------------

export class TextDocument {
  version = 1;
  isClosed = false;
  readonly isUntitled = false;
  readonly isDirty = false;
  readonly eol = EndOfLine.LF;
  constructor(readonly uri: Uri, public text: string, readonly languageId = 'plaintext') {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  getText(): string {
    return this.text;
  }
  lineAt(line: number): { text: string; range: Range } {
    const text = this.text.split('\n')[line] ?? '';
    return { text, range: new Range(line, 0, line, text.length) };
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, offset).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  offsetAt(p: Position): number {
    const lines = this.text.split('\n');
    return lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  }
}

export class DiagnosticCollection {
  readonly entries = new Map<string, Diagnostic[]>();
  constructor(readonly name: string) {}
  set(uri: Uri | [Uri, Diagnostic[]][], diagnostics?: readonly Diagnostic[]): void {
    if (Array.isArray(uri)) {
      uri.forEach(([u, d]) => this.set(u, d));
      return;
    }
    this.entries.set(uri.toString(), [...(diagnostics ?? [])]);
    recorded.onDiagnostics(uri.toString(), [...(diagnostics ?? [])]);
  }
  get(uri: Uri): Diagnostic[] {
    return this.entries.get(uri.toString()) ?? [];
  }
  has(uri: Uri): boolean {
    return this.entries.has(uri.toString());
  }
  delete(uri: Uri): void {
    this.set(uri, []);
  }
  clear(): void {
    for (const key of [...this.entries.keys()]) {
      this.set(Uri.parse(key), []);
    }
  }
  forEach(cb: (uri: Uri, d: Diagnostic[]) => void): void {
    this.entries.forEach((d, k) => cb(Uri.parse(k), d));
  }
  dispose(): void {}
}

// --- what the extension showed ----------------------------------------------------------------

export interface Shown {
  kind: 'info' | 'warning' | 'error';
  message: string;
  options: unknown[];
}

export interface StatusItem {
  id?: string;
  text: string;
  tooltip?: string;
  command?: string;
  name?: string;
  backgroundColor?: ThemeColor;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export const recorded = {
  messages: [] as Shown[],
  statusItems: [] as StatusItem[],
  terminals: [] as { options: Record<string, unknown>; shown: boolean }[],
  quickPicks: [] as { items: unknown[]; options: unknown }[],
  commandsRun: [] as { command: string; args: unknown[] }[],
  contexts: {} as Record<string, unknown>,
  output: [] as string[],
  unmocked: new Set<string>(),
  diagnostics: [] as DiagnosticCollection[],
  codeActionProviders: [] as { selector: unknown; provider: { provideCodeActions: (...a: unknown[]) => unknown } }[],
  hoverProviders: [] as { selector: unknown; provider: { provideHover: (...a: unknown[]) => unknown } }[],
  /** The answer the next message box resolves to (a button title), then undefined. */
  answers: [] as (string | undefined)[],
  /** The answer the next quick pick resolves to (an index into its items), else undefined. */
  pick: undefined as number | undefined,
  onDiagnostics: (_uri: string, _d: Diagnostic[]): void => undefined,
  onMessage: (_m: Shown): void => undefined,
  onStatus: (_item: StatusItem): void => undefined,
};

// --- configuration ----------------------------------------------------------------------------

/** Settings by full key ("mpacBridge.user"); the defaults come from the extension's package.json. */
export const settings: { user: Record<string, unknown>; defaults: Record<string, unknown> } = { user: {}, defaults: {} };

export function loadDefaults(manifest: { contributes?: { configuration?: { properties?: Record<string, { default?: unknown }> } } }): void {
  for (const [key, spec] of Object.entries(manifest.contributes?.configuration?.properties ?? {})) {
    settings.defaults[key] = spec.default;
  }
}

function configuration(section?: string): Record<string, unknown> {
  const prefix = section ? `${section}.` : '';
  const full = (key: string) => prefix + key;
  return {
    get: <T>(key: string, fallback?: T): T | undefined => {
      const k = full(key);
      if (k in settings.user) {
        return settings.user[k] as T;
      }
      if (k in settings.defaults) {
        return settings.defaults[k] as T;
      }
      // a section read as an object (vscode-languageclient reads its whole section)
      const nested: Record<string, unknown> = {};
      for (const [name, value] of Object.entries({ ...settings.defaults, ...settings.user })) {
        if (name.startsWith(`${k}.`)) {
          nested[name.slice(k.length + 1)] = value;
        }
      }
      return Object.keys(nested).length > 0 ? (nested as T) : fallback;
    },
    has: (key: string) => full(key) in settings.user || full(key) in settings.defaults,
    inspect: (key: string) => ({
      key: full(key),
      defaultValue: settings.defaults[full(key)],
      globalValue: settings.user[full(key)],
    }),
    update: async (key: string, value: unknown) => {
      settings.user[full(key)] = value;
    },
  };
}

// --- namespaces -------------------------------------------------------------------------------

/** An object whose missing functions are no-ops (returning a Disposable), listed in recorded.unmocked. */
function namespace<T extends object>(name: string, impl: T): T {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      if (typeof prop !== 'string' || prop in target) {
        return Reflect.get(target, prop, receiver);
      }
      if (prop === 'then') {
        return undefined; // not a thenable
      }
      recorded.unmocked.add(`${name}.${prop}`);
      return () => new Disposable();
    },
  });
}

const emitters = {
  openDocument: new EventEmitter<TextDocument>(),
  closeDocument: new EventEmitter<TextDocument>(),
  changeDocument: new EventEmitter<unknown>(),
  saveDocument: new EventEmitter<TextDocument>(),
  changeConfiguration: new EventEmitter<{ affectsConfiguration(section: string, scope?: unknown): boolean }>(),
  changeActiveEditor: new EventEmitter<unknown>(),
  changeVisibleEditors: new EventEmitter<unknown>(),
  changeFolders: new EventEmitter<unknown>(),
};

export interface WorkspaceFolder {
  uri: Uri;
  name: string;
  index: number;
}

export const state = {
  folders: undefined as WorkspaceFolder[] | undefined,
  documents: [] as TextDocument[],
  activeEditor: undefined as { document: TextDocument } | undefined,
};

export const workspace = namespace('workspace', {
  get workspaceFolders() {
    return state.folders;
  },
  get textDocuments() {
    return state.documents;
  },
  notebookDocuments: [],
  getConfiguration: configuration,
  getWorkspaceFolder: (uri: Uri) => state.folders?.find((f) => uri.path.startsWith(f.uri.path)),
  onDidOpenTextDocument: emitters.openDocument.event,
  onDidCloseTextDocument: emitters.closeDocument.event,
  onDidChangeTextDocument: emitters.changeDocument.event,
  onDidSaveTextDocument: emitters.saveDocument.event,
  onWillSaveTextDocument: new EventEmitter<unknown>().event,
  onDidChangeConfiguration: emitters.changeConfiguration.event,
  onDidChangeWorkspaceFolders: emitters.changeFolders.event,
  createFileSystemWatcher: () => ({
    onDidCreate: new EventEmitter<Uri>().event,
    onDidChange: new EventEmitter<Uri>().event,
    onDidDelete: new EventEmitter<Uri>().event,
    dispose: () => undefined,
  }),
  applyEdit: async () => true,
});

function show(kind: Shown['kind']) {
  return (message: string, ...options: unknown[]): Promise<string | undefined> => {
    const m = { kind, message, options };
    recorded.messages.push(m);
    recorded.onMessage(m);
    return Promise.resolve(recorded.answers.shift());
  };
}

function outputChannel(name: string) {
  return {
    name,
    append: (v: string) => recorded.output.push(v),
    appendLine: (v: string) => recorded.output.push(v),
    replace: () => undefined,
    clear: () => undefined,
    show: () => recorded.commandsRun.push({ command: 'output.show', args: [name] }),
    hide: () => undefined,
    dispose: () => undefined,
    // LogOutputChannel
    logLevel: LogLevel.Info,
    onDidChangeLogLevel: new EventEmitter<LogLevel>().event,
    trace: (v: string) => recorded.output.push(v),
    debug: (v: string) => recorded.output.push(v),
    info: (v: string) => recorded.output.push(v),
    warn: (v: string) => recorded.output.push(v),
    error: (v: unknown) => recorded.output.push(String(v)),
  };
}

export const window = namespace('window', {
  get activeTextEditor() {
    return state.activeEditor;
  },
  get visibleTextEditors() {
    return state.activeEditor ? [state.activeEditor] : [];
  },
  tabGroups: { all: [], onDidChangeTabs: new EventEmitter<unknown>().event, onDidChangeTabGroups: new EventEmitter<unknown>().event },
  onDidChangeActiveTextEditor: emitters.changeActiveEditor.event,
  onDidChangeVisibleTextEditors: emitters.changeVisibleEditors.event,
  showInformationMessage: show('info'),
  showWarningMessage: show('warning'),
  showErrorMessage: show('error'),
  createOutputChannel: outputChannel,
  createStatusBarItem: (idOrAlignment?: unknown) => {
    const item: StatusItem = {
      id: typeof idOrAlignment === 'string' ? idOrAlignment : undefined,
      visible: false,
      show() {
        this.visible = true;
      },
      hide() {
        this.visible = false;
      },
      dispose() {
        this.visible = false;
      },
      text: '',
    };
    const watched = new Proxy(item, {
      set(target, prop, value) {
        Reflect.set(target, prop, value);
        if (prop === 'text' || prop === 'tooltip' || prop === 'backgroundColor') {
          recorded.onStatus(target);
        }
        return true;
      },
    });
    recorded.statusItems.push(watched);
    return watched;
  },
  createTerminal: (options: Record<string, unknown>) => {
    const t = { options, shown: false };
    recorded.terminals.push(t);
    return { name: options.name, exitStatus: undefined, show: () => (t.shown = true), dispose: () => undefined, sendText: () => undefined };
  },
  showQuickPick: async (items: unknown[] | Promise<unknown[]>, options?: unknown) => {
    const list = await items;
    recorded.quickPicks.push({ items: list, options });
    const i = recorded.pick;
    recorded.pick = undefined;
    return i === undefined ? undefined : list[i];
  },
  showTextDocument: async (doc: unknown) => {
    recorded.commandsRun.push({ command: 'showTextDocument', args: [doc instanceof Uri ? doc.toString() : doc] });
    return undefined;
  },
  withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => unknown) =>
    task({ report: () => undefined }, new CancellationTokenSource().token),
});

const registry = new Map<string, (...args: unknown[]) => unknown>();

export const commands = namespace('commands', {
  registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
    if (registry.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    registry.set(id, handler);
    return new Disposable(() => registry.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]) => {
    recorded.commandsRun.push({ command: id, args });
    if (id === 'setContext') {
      recorded.contexts[args[0] as string] = args[1];
      return undefined;
    }
    const handler = registry.get(id);
    return handler === undefined ? undefined : handler(...args);
  },
  getCommands: async () => [...registry.keys()],
});

export const languages = namespace('languages', {
  createDiagnosticCollection: (name = '') => {
    const c = new DiagnosticCollection(name);
    recorded.diagnostics.push(c);
    return c;
  },
  match: (selector: unknown, doc: TextDocument): number => {
    const filters = (Array.isArray(selector) ? selector : [selector]) as ({ scheme?: string; language?: string } | string)[];
    return filters.some((f) => (typeof f === 'string' ? f === '*' || f === doc.languageId : (!f.scheme || f.scheme === doc.uri.scheme) && (!f.language || f.language === doc.languageId)))
      ? 10
      : 0;
  },
  registerCodeActionsProvider: (selector: unknown, provider: { provideCodeActions: (...a: unknown[]) => unknown }) => {
    const entry = { selector, provider };
    recorded.codeActionProviders.push(entry);
    return new Disposable(() => recorded.codeActionProviders.splice(recorded.codeActionProviders.indexOf(entry), 1));
  },
  registerHoverProvider: (selector: unknown, provider: { provideHover: (...a: unknown[]) => unknown }) => {
    const entry = { selector, provider };
    recorded.hoverProviders.push(entry);
    return new Disposable(() => recorded.hoverProviders.splice(recorded.hoverProviders.indexOf(entry), 1));
  },
});

export const env = namespace('env', { appName: 'mpac-bridge test host', language: 'en', uiKind: UIKind.Desktop, openExternal: async () => true });
export const extensions = namespace('extensions', { getExtension: () => undefined, all: [] });
export const version = '1.91.0';

// --- driving it -------------------------------------------------------------------------------

/** Open a document from disk: it becomes the active editor and open-document listeners fire. */
export function openDocument(fsPath: string, text: string, languageId = 'plaintext'): TextDocument {
  const doc = new TextDocument(Uri.file(fsPath), text, languageId);
  state.documents.push(doc);
  state.activeEditor = { document: doc };
  emitters.openDocument.fire(doc);
  emitters.changeActiveEditor.fire(state.activeEditor);
  emitters.changeVisibleEditors.fire([state.activeEditor]);
  return doc;
}

/** The person changes settings: listeners see which sections changed. */
export function changeSettings(values: Record<string, unknown>): void {
  Object.assign(settings.user, values);
  const keys = Object.keys(values);
  emitters.changeConfiguration.fire({ affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)) });
}

/** Forget everything recorded and registered (between unit tests). */
export function reset(): void {
  recorded.messages.length = 0;
  recorded.statusItems.length = 0;
  recorded.terminals.length = 0;
  recorded.quickPicks.length = 0;
  recorded.commandsRun.length = 0;
  recorded.output.length = 0;
  recorded.unmocked.clear();
  recorded.answers.length = 0;
  recorded.pick = undefined;
  recorded.contexts = {};
  registry.clear();
  settings.user = {};
  state.folders = undefined;
  state.documents = [];
  state.activeEditor = undefined;
}
