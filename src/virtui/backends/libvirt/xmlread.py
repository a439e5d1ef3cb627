"""Reading the XML libvirt hands out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from virtui.text import xml_parsable


def read_xml(text: str) -> ET.Element:
    """libvirt's XML (a domain, pool, volume, network, capabilities) as a tree.

    libvirt wrote it, so the standard library's parser suffices; a control character
    libvirt kept raw (a name or title set with an ESC) is turned into a visible escape
    first, or the whole document would be refused and the domain could not be shown."""
    return ET.fromstring(xml_parsable(text))
