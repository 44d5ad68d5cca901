"""Which tree-sitter nodes define symbols, per language, and how their names are read.

Names are qualified with dots whatever the language: a Go method on `*Server` is `Server.Handle`,
a function in a Rust `impl Wrapper<T>` block (trait impls too) is `Wrapper.fmt`, and the impl
block itself is a symbol named after its type, so claiming `Wrapper` claims the struct and all its
impl blocks. Nodes here are tree-sitter `Node`s; this module never imports tree-sitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Node = Any
Names = Callable[[Node], list[str]]


def text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def by_name(node: Node) -> list[str]:
    """The node's `name` field (most declarations)."""
    return [text(node.child_by_field_name("name"))]


def all_names(node: Node) -> list[str]:
    """Every `name` field (Go `var a, b = 1, 2`)."""
    return [text(n) for n in node.children_by_field_name("name")]


def declarator_names(node: Node) -> list[str]:
    """Java fields: `int a = 1, b;` names `a` and `b`."""
    return [text(d.child_by_field_name("name")) for d in node.children_by_field_name("declarator")]


def js_variable_names(node: Node) -> list[str]:
    """`const a = 1, b = () => 2;` names `a` and `b` (destructuring patterns name nothing)."""
    out = []
    for d in node.named_children:
        if d.type == "variable_declarator":
            name = d.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                out.append(text(name))
    return out


def _type_name(node: Node | None) -> str:
    """The bare type name of `*Server`, `Server[T]`, `Wrapper<T>`, `fmt::Display`, `&mut T`."""
    while node is not None and node.type not in ("type_identifier", "identifier", "primitive_type"):
        inner = node.child_by_field_name("type") or node.child_by_field_name("name")
        if inner is None:
            named = [
                c
                for c in node.named_children
                if c.type not in ("type_arguments", "lifetime", "mutable_specifier")
            ]
            inner = named[-1] if named else None
        node = inner
    return text(node)


def go_method_name(node: Node) -> list[str]:
    receiver = node.child_by_field_name("receiver")
    params = (
        [c for c in receiver.named_children if c.type == "parameter_declaration"]
        if receiver is not None
        else []
    )
    owner = _type_name(params[0].child_by_field_name("type")) if params else ""
    name = text(node.child_by_field_name("name"))
    return [f"{owner}.{name}" if owner else name]


def rust_impl_name(node: Node) -> list[str]:
    return [_type_name(node.child_by_field_name("type"))]


def go_type_kind(node: Node, in_type: bool) -> str:
    shape = node.child_by_field_name("type")
    kinds = {"struct_type": "struct", "interface_type": "interface"}
    return (
        kinds.get(shape.type, "type") if shape is not None and node.type == "type_spec" else "type"
    )


def js_variable_kind(node: Node, in_type: bool) -> str:
    values = [
        d.child_by_field_name("value")
        for d in node.named_children
        if d.type == "variable_declarator"
    ]
    functions = {"arrow_function", "function_expression", "function", "generator_function"}
    return (
        "function"
        if len(values) == 1 and values[0] is not None and values[0].type in functions
        else "variable"
    )


@dataclass(frozen=True)
class Def:
    """A defining node. `body` names the field holding members (a container); `type_like`
    containers make their functions methods; `specs` are the child node types of a declaration
    that may group several definitions."""

    kind: str | Callable[[Node, bool], str]
    names: Names = by_name
    body: str | None = None
    type_like: bool = False
    specs: frozenset[str] = frozenset()
    spec_lists: frozenset[str] = frozenset()  # wrapper lists holding the specs (Go `var_spec_list`)

    def kind_of(self, node: Node, in_type: bool) -> str:
        if callable(self.kind):
            return self.kind(node, in_type)
        return "method" if self.kind == "function" and in_type else self.kind

    def spec_nodes(self, node: Node) -> list[Node]:
        out = []
        for c in node.named_children:
            if c.type in self.specs:
                out.append(c)
            elif c.type in self.spec_lists:
                out.extend(x for x in c.named_children if x.type in self.specs)
        return out


@dataclass(frozen=True)
class LangSpec:
    defs: dict[str, Def]
    imports: frozenset[str]
    leading: frozenset[str]  # comments, decorators, attributes that attach to the next definition
    transparent: frozenset[str] = frozenset()  # walked through at the same level
    wrappers: dict[str, Callable[[Node], Node | None]] = field(default_factory=dict)


def _declaration(node: Node) -> Node | None:
    return node.child_by_field_name("declaration")


def _first_named(node: Node) -> Node | None:
    return node.named_children[0] if node.named_child_count else None


_JS_DEFS: dict[str, Def] = {
    "function_declaration": Def("function"),
    "generator_function_declaration": Def("function"),
    "function_signature": Def("function"),
    "class_declaration": Def("class", body="body", type_like=True),
    "method_definition": Def("function"),
    "field_definition": Def("field", names=lambda n: [text(n.child_by_field_name("property"))]),
    "lexical_declaration": Def(js_variable_kind, names=js_variable_names),
    "variable_declaration": Def(js_variable_kind, names=js_variable_names),
}
_TS_DEFS: dict[str, Def] = {
    **_JS_DEFS,
    "abstract_class_declaration": Def("class", body="body", type_like=True),
    "interface_declaration": Def("interface"),
    "type_alias_declaration": Def("type"),
    "enum_declaration": Def("enum"),
    "internal_module": Def("namespace", body="body"),
    "module": Def("namespace", body="body"),
    "method_signature": Def("function"),
    "abstract_method_signature": Def("function"),
    "public_field_definition": Def("field"),
}
_JS_WRAPPERS: dict[str, Callable[[Node], Node | None]] = {
    "export_statement": _declaration,
    "ambient_declaration": _first_named,
    "expression_statement": _first_named,
}


def _js(defs: dict[str, Def]) -> LangSpec:
    return LangSpec(
        defs,
        frozenset({"import_statement"}),
        frozenset({"comment", "decorator"}),
        wrappers=_JS_WRAPPERS,
    )


SPECS: dict[str, LangSpec] = {
    "javascript": _js(_JS_DEFS),
    "typescript": _js(_TS_DEFS),
    "tsx": _js(_TS_DEFS),
    "go": LangSpec(
        {
            "function_declaration": Def("function"),
            "method_declaration": Def("method", names=go_method_name),
            "type_declaration": Def(go_type_kind, specs=frozenset({"type_spec", "type_alias"})),
            "const_declaration": Def("constant", names=all_names, specs=frozenset({"const_spec"})),
            "var_declaration": Def(
                "variable",
                names=all_names,
                specs=frozenset({"var_spec"}),
                spec_lists=frozenset({"var_spec_list"}),
            ),
        },
        imports=frozenset({"import_declaration"}),
        leading=frozenset({"comment"}),
    ),
    "rust": LangSpec(
        {
            "function_item": Def("function"),
            "function_signature_item": Def("function"),
            "struct_item": Def("struct"),
            "enum_item": Def("enum"),
            "union_item": Def("union"),
            "trait_item": Def("trait", body="body", type_like=True),
            "impl_item": Def("impl", names=rust_impl_name, body="body", type_like=True),
            "mod_item": Def("module", body="body"),
            "const_item": Def("constant"),
            "static_item": Def("static"),
            "type_item": Def("type"),
            "macro_definition": Def("macro"),
        },
        imports=frozenset({"use_declaration", "extern_crate_declaration"}),
        leading=frozenset({"line_comment", "block_comment", "attribute_item"}),
    ),
    "java": LangSpec(
        {
            "class_declaration": Def("class", body="body", type_like=True),
            "interface_declaration": Def("interface", body="body", type_like=True),
            "enum_declaration": Def("enum", body="body", type_like=True),
            "record_declaration": Def("record", body="body", type_like=True),
            "annotation_type_declaration": Def("annotation", body="body", type_like=True),
            "method_declaration": Def("method"),
            "annotation_type_element_declaration": Def("method"),
            "constructor_declaration": Def("constructor"),
            "compact_constructor_declaration": Def("constructor"),
            "field_declaration": Def("field", names=declarator_names),
            "constant_declaration": Def("constant", names=declarator_names),
            "enum_constant": Def("constant"),
        },
        imports=frozenset({"import_declaration"}),
        leading=frozenset({"line_comment", "block_comment"}),
        transparent=frozenset({"enum_body_declarations"}),
    ),
}
