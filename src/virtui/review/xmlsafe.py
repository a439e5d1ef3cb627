"""Reading domain XML that came from a user or a file, without trusting it."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree


MAX_XML_BYTES = 1024 * 1024  # a large domain is ~50 KiB; remote libvirt fails above ~5 MiB
SCHEMAS = Path("/usr/share/libvirt/schemas")
KINDS = ("domain", "network")  # the root elements a change request may configure


class XmlRefused(ValueError):
    """A proposal that is not applied; the message says why."""


def sha256(text: str) -> str:
    """The hash a change is pinned to (libvirt's formatter is deterministic)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_domain(text: str) -> etree._Element:
    """Parse a <domain> document: size-capped, no DTD, no entities, no network."""
    return parse_config(text, "domain")


def parse_config(text: str, kind: str | None = None) -> etree._Element:
    """Parse a <domain> or <network> document (``kind``: only that one) the same way."""
    if len(text.encode("utf-8")) > MAX_XML_BYTES:
        raise XmlRefused(
            f"the XML is {len(text.encode('utf-8')) // 1024} KiB: more than the "
            f"{MAX_XML_BYTES // 1024} KiB a domain definition may have here"
        )
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise XmlRefused("the XML has a DOCTYPE or entity declarations: not accepted")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        raise XmlRefused(f"the XML is not well-formed: {error}") from error
    if root.tag != (kind or root.tag) or root.tag not in KINDS:
        raise XmlRefused(f"the document is a <{root.tag}>, not a <{kind or 'domain'}>")
    return root


def check_identity(base_xml: str, proposed_xml: str, uuid: str) -> None:
    """Raise XmlRefused unless the proposal keeps the object's name and names its UUID:
    a change request edits its own domain (or network), never defines another one."""
    base = parse_config(base_xml)
    proposed = parse_config(proposed_xml, str(base.tag))
    what = str(base.tag)
    name = (base.findtext("name") or "").strip()
    new_name = (proposed.findtext("name") or "").strip()
    new_uuid = (proposed.findtext("uuid") or "").strip().lower()
    if new_uuid != uuid.lower():
        raise XmlRefused(
            f"the proposal names UUID {new_uuid or '(none)'}, not this {what}'s {uuid}: "
            f"a change request edits only its own {what}"
        )
    if new_name != name:
        raise XmlRefused(
            f"the proposal renames {name} to {new_name or '(none)'}: renaming is not an "
            "edit of the configuration"
        )


def to_text(root: etree._Element) -> str:
    """Serialise a tree the way it is proposed and diffed."""
    return str(etree.tostring(root, encoding="unicode"))


def canonical(text: str) -> str:
    """``text`` as this module serialises it: diffs compare two such texts, so quoting
    and other formatting differences between libvirt and lxml never show as changes."""
    if not text.strip():  # the base of a new domain: nothing
        return ""
    return to_text(parse_config(text))


@lru_cache(maxsize=len(KINDS))
def _schema(kind: str) -> etree.RelaxNG | None:
    path = SCHEMAS / f"{kind}.rng"
    if not path.exists():
        return None
    return etree.RelaxNG(etree.parse(str(path)))


def validate(text: str) -> list[str]:
    """Problems found by libvirt's RelaxNG schema of the document's kind (domain.rng or
    network.rng; [] when valid; [] when the schema is not installed, in which case
    libvirt's own validation at define still runs)."""
    root = parse_config(text)
    schema = _schema(str(root.tag))
    if schema is None or schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log][:10]
