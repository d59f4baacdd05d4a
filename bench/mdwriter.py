"""The report's building blocks and their one renderer. A section of the report is data: a
heading and its blocks (paragraphs, tables, code, lists), each rendered one way, blocks
separated by a blank line; the summary table is rendered both as Markdown and as the plain
text printed at the end of a run. Also the few ways a figure is written as text."""

import textwrap
from dataclasses import dataclass, field

WIDTH = 100  # wrapped paragraphs


@dataclass
class Paragraph:
    """Lines as written (the line breaks are the author's)."""

    lines: list[str]

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)

    def render(self) -> list[str]:
        return self.lines


@dataclass
class Wrapped:
    """One paragraph of text, wrapped at ``WIDTH``."""

    text: str

    def render(self) -> list[str]:
        return textwrap.wrap(self.text, width=WIDTH, break_long_words=False, break_on_hyphens=False)


@dataclass
class Table:
    headers: tuple[str, ...]
    rows: list[tuple]

    def render(self) -> list[str]:
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join(" --- " for _ in self.headers) + "|"]
        return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]

    def text(self) -> str:
        """Aligned plain text, for the console."""
        rows = [self.headers, *self.rows]
        widths = [max(len(str(row[n])) for row in rows) for n in range(len(self.headers))]
        lines = [
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines).replace("**", "")


@dataclass
class Code:
    """A fenced block: statements, plans."""

    lines: list[str]

    def render(self) -> list[str]:
        return ["```", *self.lines, "```"]


@dataclass
class Bullets:
    """A list, after its lead-in line when there is one."""

    items: list[str]
    lead: str = ""

    def render(self) -> list[str]:
        return ([self.lead] if self.lead else []) + [f"- {item}" for item in self.items]


@dataclass
class Heading:
    level: int
    title: str

    def render(self) -> list[str]:
        return [f"{'#' * self.level} {self.title}"]


Block = Paragraph | Wrapped | Table | Code | Bullets | Heading


@dataclass
class Section:
    """A heading (level 2: a figure; 3 and 4: its parts) and its blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2

    def add(self, *blocks: Block | None) -> "Section":
        self.blocks += [b for b in blocks if b is not None]
        return self

    def sub(self, title: str, *blocks: Block | None, level: int = 3) -> "Section":
        """A part of the section: its heading, then its blocks (a ``None`` is left out)."""
        return self.add(Heading(level, title), *blocks)


def render(blocks: list[Block | Section]) -> list[str]:
    """Markdown lines: each block, a blank line between two."""
    lines: list[str] = []
    for block in blocks:
        parts = [Heading(block.level, block.title), *block.blocks] if isinstance(block, Section) else [block]
        for part in parts:
            rendered = part.render()
            if not rendered:
                continue
            if lines:
                lines.append("")
            lines += rendered
    return lines


# --- figures as text ---------------------------------------------------------------------------


def met(ok: bool | None) -> str:
    """A target's verdict: yes, **NO** (bold, so it stands out), or — when none is set."""
    return "—" if ok is None else "yes" if ok else "**NO**"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def span(values: list[int]) -> str:
    """ "12", or "12 to 14" when the values differ."""
    return f"{min(values)}" if min(values) == max(values) else f"{min(values)} to {max(values)}"


def ms_list(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def counts(named: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in sorted(named.items())) or "none"


def kinds_by_time(kinds: dict[str, list]) -> list[tuple[str, int, float]]:
    """Statement kinds (kind -> [count, ms]) as (kind, count, ms), the costliest first."""
    return [(kind, n, ms) for kind, (n, ms) in sorted(kinds.items(), key=lambda kv: -kv[1][1])]
