"""The Files view: the repository tree, each file annotated with the intents that cover it."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from bridge.client import Session
from tui.model import escape, file_label


class FileTree(Tree[str]):
    """Nodes are added and removed one at a time; only labels whose annotation changed are redrawn."""

    def __init__(self, root_label: str = "repository", **kwargs: Any) -> None:
        super().__init__(escape(root_label), data="", **kwargs)
        self.nodes: dict[str, TreeNode[str]] = {}
        self.files: set[str] = set()
        self.labels: dict[str, str] = {}
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
