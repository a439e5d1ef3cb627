"""Whether a configuration holds a proposal, judged by the XML nodes the proposal
changed rather than by lines: an unrelated edit next to them (``virsh setmem --config``
beside a vCPU change) does not hide that the proposal is in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from virtui.review.xmlsafe import parse_config

if TYPE_CHECKING:
    from lxml import etree

# A node's value: its attributes (sorted) and its own stripped text.
NodeValue = tuple[tuple[tuple[str, str], ...], str]

# Child elements whose value tells devices of one kind apart, before their order does.
_IDENTITY = (("target", "dev"), ("mac", "address"), ("alias", "name"), ("source", "file"))


def _identity(element: etree._Element) -> str:
    for child_tag, attribute in _IDENTITY:
        child = element.find(child_tag)
        if child is not None and child.get(attribute):
            return f"{child_tag}={child.get(attribute)}"
    return element.get("name") or element.get("id") or ""


def nodes(text: str) -> dict[str, NodeValue]:
    """Every element of ``text`` by a path that names it (``devices/disk[target=vda]/
    source``), with its value; {} for an empty text (the base of a new domain)."""
    if not text.strip():
        return {}
    found: dict[str, NodeValue] = {}

    def walk(path: str, element: etree._Element) -> None:
        found[path] = (
            tuple(sorted((str(k), str(v)) for k, v in element.attrib.items())),
            (element.text or "").strip(),
        )
        seen: dict[str, int] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            key = f"{child.tag}[{_identity(child)}]"
            seen[key] = seen.get(key, 0) + 1
            walk(f"{path}/{key}#{seen[key]}", child)

    root = parse_config(text)
    walk(str(root.tag), root)
    return found


def changed(base: str, proposed: str) -> dict[str, NodeValue | None]:
    """The nodes ``proposed`` adds, changes or removes, with their proposed value (None:
    removed)."""
    before, after = nodes(base), nodes(proposed)
    return {
        path: after.get(path)
        for path in before.keys() | after.keys()
        if before.get(path) != after.get(path)
    }


def holds(base: str, proposed: str, live: str) -> bool:
    """True when ``live`` has every node the proposal changed as the proposal has it
    (whatever else changed beside them)."""
    wanted = changed(base, proposed)
    now = nodes(live)
    return all(now.get(path) == value for path, value in wanted.items())
