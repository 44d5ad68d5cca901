"""The Files view: the repository tree, each file annotated with the intents that cover it; a file
whose functions or classes are claimed (symbol scopes, issue 19) expands into those symbols."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from bridge.client import Session
from tui.model import escape, file_label, symbol_label


class FileTree(Tree[str]):
    """Nodes are added and removed one at a time; only labels whose annotation changed are redrawn."""

    def __init__(self, root_label: str = "repository", **kwargs: Any) -> None:
        super().__init__(escape(root_label), data="", **kwargs)
        self.nodes: dict[str, TreeNode[str]] = {}
        self.files: set[str] = set()
        self.labels: dict[str, str] = {}
        self.symbols: dict[
            str, dict[str, TreeNode[str]]
        ] = {}  # file -> held symbol name -> its node
        self.symbol_labels: dict[tuple[str, str], str] = {}
        self.root.expand()

    def _dir(self, path: str) -> TreeNode[str]:
        if not path:
            return self.root
        node = self.nodes.get(path)
        if node is None:
            parent, _, name = path.rpartition("/")
            node = self._dir(parent).add(escape(name) + "/", data=path, expand=path.count("/") < 1)
            self.nodes[path] = node
        return node

    def _add_file(self, path: str) -> None:
        if path in self.files:
            return
        parent, _, name = path.rpartition("/")
        self.nodes[path] = self._dir(parent).add_leaf(escape(name), data=path)
        self.files.add(path)

    def set_files(self, paths: list[str], claimed: set[str] | None = None) -> None:
        """Make the tree show exactly these files (plus files named by live intents)."""
        wanted = set(paths) | (claimed or set())
        for path in sorted(wanted - self.files):
            self._add_file(path)
        for path in sorted(self.files - wanted):
            node = self.nodes.pop(path, None)
            self.files.discard(path)
            self.labels.pop(path, None)
            for name in self.symbols.pop(path, {}):
                self.symbol_labels.pop((path, name), None)
            if node is not None:
                node.remove()

    def annotate(self, session: Session) -> None:
        """Show who holds each file and for what; files in conflict are highlighted."""
        held = session.held_files(self.files)
        self.set_files(sorted(self.files), set(held))
        hot = session.conflicted_intent_ids()
        for path in self.files:
            intents = held.get(path, [])
            label = file_label(path, intents, any(i.intent_id in hot for i in intents))
            if self.labels.get(path, escape(path.rsplit("/", 1)[-1])) != label:
                self.labels[path] = label
                self.nodes[path].set_label(label)
                if intents:
                    node = self.nodes[path].parent
                    while node is not None and not node.is_expanded:
                        node.expand()
                        node = node.parent
            if path in self.symbols or any(i.symbols.get(path) for i in intents):
                self._show_symbols(path, session, hot)

    def _show_symbols(self, path: str, session: Session, hot: set[str]) -> None:
        """Children of a file node, one per held symbol, each with who holds it; none when nobody
        holds a symbol of the file (a whole-file claim stays on the file's own label)."""
        held = {n: i for n, i in session.held_symbols(path).items() if n != "*"}
        nodes = self.symbols.setdefault(path, {})
        file_node = self.nodes[path]
        for name in sorted(nodes.keys() - held.keys()):
            nodes.pop(name).remove()
            self.symbol_labels.pop((path, name), None)
        for name in sorted(held):
            intents = held[name]
            label = symbol_label(name, intents, any(i.intent_id in hot for i in intents))
            if name not in nodes:
                nodes[name] = file_node.add_leaf(label, data=f"{path}::{name}")
            elif self.symbol_labels.get((path, name)) != label:
                nodes[name].set_label(label)
            self.symbol_labels[(path, name)] = label
        if not nodes:
            del self.symbols[path]
            file_node.allow_expand = False
        else:
            file_node.allow_expand = True
            file_node.expand()
