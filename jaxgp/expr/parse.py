"""Whitelist parser from infix text to `Tree`: nothing in the text is ever executed.

Grammar (whitespace between tokens is ignored):

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := '-' NUMBER | '-' unary | atom
    atom  := NUMBER | 'y_pred' | 'y_true' | FUNC '(' expr ')' | '(' expr ')'
    FUNC  := neg | sqrt | log | exp | sin | cos

A minus sign directly before a number makes a negative constant; before anything else it is
`neg`. Any other character, name, call, keyword or operator (`**` included) raises
`ExpressionError` naming the offending token and its 1-based column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from jaxgp.errors import ExpressionError
from jaxgp.expr.primitives import FUNCTIONS, LEAVES
from jaxgp.expr.tree import Tree

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/(),])"
    r"|(?P<bad>\S))"
)
MAX_LENGTH = 10_000


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, op, end
    text: str
    column: int


def _unexpected(token: _Token) -> ExpressionError:
    if token.text == "**":
        return ExpressionError(
            f"operator '**' at column {token.column} is not allowed; "
            "valid operators: + - * / and neg sqrt log exp sin cos"
        )
    if token.kind == "bad":
        return ExpressionError(f"unexpected character {token.text!r} at column {token.column}")
    found = repr(token.text) if token.kind != "end" else "end of input"
    return ExpressionError(f"unexpected {found} at column {token.column}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        kind = match.lastgroup
        assert kind is not None
        token = _Token(kind, match.group(kind), match.start(kind) + 1)
        tokens.append(token)
        position = match.end()
    tokens.append(_Token("end", "", len(text.rstrip()) + 1))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.current
        if token.text != text:
            if token.kind == "bad" or token.text == "**":
                raise _unexpected(token)
            found = repr(token.text) if token.kind != "end" else "end of input"
            raise ExpressionError(f"expected {text!r} but found {found} at column {token.column}")
        self.advance()

    def expression(self) -> Tree:
        tree = self.term()
        while self.current.text in ("+", "-"):
            op = self.advance().text
            tree = Tree.call(op, tree, self.term())
        return tree

    def term(self) -> Tree:
        tree = self.unary()
        while self.current.text in ("*", "/"):
            op = self.advance().text
            tree = Tree.call(op, tree, self.unary())
        return tree

    def unary(self) -> Tree:
        if self.current.text == "-":
            self.advance()
            if self.current.kind == "number":
                return Tree.leaf(-self.number())
            return Tree.call("neg", self.unary())
        return self.atom()

    def number(self) -> float:
        token = self.advance()
        value = float(token.text)
        if not math.isfinite(value):
            raise ExpressionError(f"constant {token.text!r} at column {token.column} is not finite")
        return value

    def atom(self) -> Tree:
        token = self.current
        if token.kind == "number":
            return Tree.leaf(self.number())
        if token.kind == "name":
            self.advance()
            if token.text in LEAVES:
                if self.current.text == "(":
                    raise ExpressionError(
                        f"{token.text!r} at column {token.column} is a leaf, not a function"
                    )
                return Tree.leaf(token.text)
            if token.text in FUNCTIONS:
                return self.call(token)
            raise ExpressionError(
                f"unknown name {token.text!r} at column {token.column}; valid names: "
                + ", ".join((*LEAVES, *FUNCTIONS))
            )
        if token.text == "(":
            self.advance()
            tree = self.expression()
            self.expect(")")
            return tree
        raise _unexpected(token)

    def call(self, name: _Token) -> Tree:
        if self.current.text != "(":
            raise ExpressionError(
                f"function {name.text!r} at column {name.column} must be called: {name.text}(x)"
            )
        self.advance()
        argument = self.expression()
        if self.current.text == ",":
            raise ExpressionError(
                f"{name.text!r} at column {name.column} takes 1 argument; "
                f"found ',' at column {self.current.column}"
            )
        self.expect(")")
        return Tree.call(name.text, argument)


def parse(text: str) -> Tree:
    """Parse infix text into a `Tree`; raises `ExpressionError` on anything outside the grammar."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    tokens = _tokenize(text)
    if tokens[0].kind == "end":
        raise ExpressionError("empty expression")
    parser = _Parser(tokens)
    try:
        tree = parser.expression()
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    if parser.current.kind != "end":
        raise _unexpected(parser.current)
    return tree
