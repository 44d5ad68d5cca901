// The value types of the `vscode` API that the mock (vscode-mock.ts) and vscode-languageclient use:
// events, URIs, positions, diagnostics, code actions, enums. Plain data, no recording.

import * as nodePath from 'path';
import { fileURLToPath, pathToFileURL } from 'url';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  constructor(private readonly onDispose: () => unknown = () => undefined) {}
  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>, thisArg?: unknown, bucket?: Disposable[]): Disposable => {
    const bound: Listener<T> = thisArg === undefined ? listener : listener.bind(thisArg);
    this.listeners.push(bound);
    const d = new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== bound);
    });
    bucket?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static file(fsPath: string): Uri {
    return new Uri('file', '', nodePath.resolve(fsPath).split(nodePath.sep).join('/'));
  }
  static parse(value: string): Uri {
    const u = new URL(value);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname), u.search.replace(/^\?/, ''), u.hash.replace(/^#/, ''));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, nodePath.posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.scheme === 'file' ? fileURLToPath(pathToFileURL(this.path)) : this.path;
  }
  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, this.query, this.fragment);
  }
  toString(): string {
    if (this.scheme === 'file') {
      return pathToFileURL(this.fsPath).href;
    }
    return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path, external: this.toString() };
  }
}

export class Position {
  constructor(readonly line: number, readonly character: number) {}
  isBefore(o: Position): boolean {
    return this.line < o.line || (this.line === o.line && this.character < o.character);
  }
  isEqual(o: Position): boolean {
    return this.line === o.line && this.character === o.character;
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c as number, d as number) : (b as Position);
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
}

export class Selection extends Range {}

export enum DiagnosticSeverity { Error = 0, Warning = 1, Information = 2, Hint = 3 }
export enum DiagnosticTag { Unnecessary = 1, Deprecated = 2 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum QuickPickItemKind { Separator = -1, Default = 0 }
export enum CodeActionTriggerKind { Invoke = 1, Automatic = 2 }
export enum TextDocumentSaveReason { Manual = 1, AfterDelay = 2, FocusOut = 3 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export enum LogLevel { Off = 0, Trace = 1, Debug = 2, Info = 3, Warning = 4, Error = 5 }
export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }
export enum EndOfLine { LF = 1, CRLF = 2 }
export enum UIKind { Desktop = 1, Web = 2 }

export class Diagnostic {
  code?: string | number | { value: string | number; target: Uri };
  source?: string;
  tags?: DiagnosticTag[];
  relatedInformation?: unknown[];
  constructor(public range: Range, public message: string, public severity: DiagnosticSeverity = DiagnosticSeverity.Error) {}
}

export class DiagnosticRelatedInformation {
  constructor(public location: unknown, public message: string) {}
}

export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Refactor = new CodeActionKind('refactor');
  static readonly RefactorExtract = new CodeActionKind('refactor.extract');
  static readonly RefactorInline = new CodeActionKind('refactor.inline');
  static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
  static readonly Source = new CodeActionKind('source');
  static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
  static readonly SourceFixAll = new CodeActionKind('source.fixAll');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other: CodeActionKind): boolean {
    return this.value === '' || other.value === this.value || other.value.startsWith(`${this.value}.`);
  }
  intersects(other: CodeActionKind): boolean {
    return this.contains(other) || other.contains(this);
  }
}

export class CodeAction {
  command?: { title: string; command: string; arguments?: unknown[] };
  diagnostics?: Diagnostic[];
  edit?: unknown;
  isPreferred?: boolean;
  disabled?: { reason: string };
  constructor(public title: string, public kind?: CodeActionKind) {}
}

export class MarkdownString {
  constructor(public value = '', public supportThemeIcons = false) {}
  appendMarkdown(v: string): this {
    this.value += v;
    return this;
  }
  appendText(v: string): this {
    this.value += v;
    return this;
  }
}

export class Hover {
  constructor(public contents: unknown, public range?: Range) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class RelativePattern {
  constructor(public baseUri: Uri | { uri: Uri }, public pattern: string) {}
}

export class WorkspaceEdit {
  entries(): unknown[] {
    return [];
  }
}

/** Classes vscode-languageclient extends or constructs for features this server never offers. */
class Plain {
  constructor(...args: unknown[]) {
    Object.assign(this, { args });
  }
}
export class CompletionItem extends Plain {}
export class CompletionList extends Plain {}
export class CodeLens extends Plain {}
export class DocumentLink extends Plain {}
export class CallHierarchyItem extends Plain {}
export class TypeHierarchyItem extends Plain {}
export class InlayHint extends Plain {}
export class SymbolInformation extends Plain {}
export class DocumentSymbol extends Plain {}
export class Location extends Plain {}
export class TextEdit extends Plain {}
export class SnippetString extends Plain {}
export class SnippetTextEdit extends Plain {}
export class TabInputText extends Plain {}
export class TabInputTextDiff extends Plain {}
export class TabInputNotebook extends Plain {}
export class TabInputCustom extends Plain {}
