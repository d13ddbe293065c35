"""What a user reads cites only what a user can open (issue 15).

bgpemu's rules cite the project's reference notes (``azure-routing.md``,
``azure-traffic.md``: sections ``§3.1`` and source keys ``[VPN-FAQ]``), which are not
shipped.  Messages and hints (every string literal of the package that is not a
docstring), CLI help, the JSON Schemas, the shipped topologies, ``docs/`` and the README
cite the public pages instead (:mod:`bgpemu.azure.learn`): none may name the notes, one
of their sections or a bare source key, and every learn.microsoft.com address they give
is one of ``PAGES`` (none made up).  An RFC's section (``RFC 4271 §8``) is public.
Docstrings are for developers and may keep the notes' references, except the topology
models' that the schema shows, which :func:`bgpemu.azure.learn.public` rewrites.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bgpemu.azure.learn import PAGES, public, see

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "bgpemu"

UNOPENABLE = re.compile(
    r"(?<!RFC \d{4} )(?<!RFC \d{3} )§\s*\d"  # a section of the notes
    r"|(?<![\]\w])\[[A-Z][A-Z0-9]*-[A-Z0-9-]+\](?![(:\[])"  # a bare source key
    r"|\b(?:azure-routing|azure-traffic|peers|deps|perf|style-anchors)\.md\b"
    r"|\bshared/"
)
"""A citation nobody outside the project can open.  A key written as a Markdown link
(``[VPN-FAQ](https://...)``, or ``[VPN-FAQ]`` with its ``[VPN-FAQ]: https://...``
definition in the same page) opens: see :func:`_markdown_unresolved`."""

URL = re.compile(r"https://learn\.microsoft\.com/[^\s)\"'`>,]*")


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module that are not docstrings (statement strings)."""
    tree = ast.parse(path.read_text())
    statements = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in statements
        ):
            yield node.lineno, node.value


def _problems(where: str, text: str, *, any_page: bool = False) -> list[str]:
    """Each unopenable citation of ``text``, and (unless ``any_page``: the docs may link
    any page) each learn.microsoft.com address that is not one of ``PAGES``."""
    found = [f"{where}: {m.group(0)!r}" for m in UNOPENABLE.finditer(text)]
    found += [
        f"{where}: {url} is not a page of bgpemu.azure.learn.PAGES"
        for url in URL.findall(text)
        if not any_page and url.rstrip(".") not in PAGES.values()
    ]
    return found


def _spec_sections_removed(text: str) -> str:
    """``text`` without the ``§`` of its paragraphs that name a public specification (an
    RFC, MQTT 3.1.1): there a bare ``§3`` is that specification's section."""
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(
        p.replace("§", "") if re.search(r"\bRFC \d+|\bMQTT\b", p) else p for p in paragraphs
    )


def _markdown_unresolved(text: str) -> str:
    """``text`` with each ``[KEY]`` that has a link definition in it taken out."""
    defined = set(re.findall(r"^\[([A-Z][A-Z0-9-]*)\]: https://", text, flags=re.M))
    text = re.sub(r"^\[[A-Z][A-Z0-9-]*\]: \S+$", "", text, flags=re.M)
    return re.sub(r"\[([A-Z][A-Z0-9-]*)\]", lambda m: "" if m[1] in defined else m[0], text)


def test_messages_hints_and_help_cite_public_pages() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "learn.py":
            continue  # its patterns spell what public() takes out
        for line, text in _literals(path):
            problems += _problems(f"{path.relative_to(ROOT)}:{line}", text)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "pattern", ["README.md", "docs/*.md", "topologies/**/*.yaml", "schema/**/*.json"]
)
def test_user_files_cite_public_pages(pattern: str) -> None:
    files = sorted(ROOT.glob(pattern))
    assert files, pattern
    problems = []
    for path in files:
        text = path.read_text()
        if path.suffix == ".json":
            text = text.encode().decode("unicode_escape")  # \u00a7 is §
        elif path.suffix == ".md":
            text = _spec_sections_removed(_markdown_unresolved(text))
        where = str(path.relative_to(ROOT))
        problems += _problems(where, text, any_page=path.suffix == ".md")
    assert not problems, "\n".join(problems)


def test_the_scan_finds_what_it_must() -> None:
    """The patterns catch each kind of unopenable citation, and let public ones through."""
    for bad in ("(§3.1 [VPN-FAQ])", "[ER-GW]", "see shared/azure-routing.md", "(§4.4)"):
        assert _problems("x", bad), bad
    unknown = "https://learn.microsoft.com/azure/made-up-page"
    assert _problems("x", f"(see {unknown})")
    for good in (see("VPN-FAQ", "ER-GW"), "RFC 4271 §8", "[VPN-FAQ](https://x)"):
        assert not _problems("x", good), good
    page = "[VPN-FAQ] says so.\n\n[VPN-FAQ]: https://learn.microsoft.com/x\n"
    assert "[VPN-FAQ]" not in _markdown_unresolved(page)
    assert "[ER-GW]" in _markdown_unresolved("[ER-GW] says so.")
    assert "§" in _spec_sections_removed("NSGs (§1.1).\n\nRFC 7606 says (§3 j).")


def test_public_keeps_rfc_sections_and_links_keys() -> None:
    assert public("a rule (§1.1).") == "a rule."
    assert public("groups (§1.1 [ASG]).") == f"groups ({see('ASG')})."
    assert public("med (RFC 4271 §4.3).") == "med (RFC 4271 §4.3)."
    assert public("forwards (azure-traffic.md §5.3); P3") == "forwards; P3"
