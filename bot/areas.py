"""The one list of areas as people are asked for them, and their labels. The default area
(``meta.default_area`` in content, the national pack) is "elsewhere": last, under that label."""

from __future__ import annotations

from dialogs.content import Content


def area_order(content: Content) -> list[str]:
    """Areas by name, with the default area ("elsewhere") last."""
    default = content.meta.default_area
    others = sorted(a for a in content.areas if a != default)
    return [*others, default] if default in content.areas else others


def area_label(content: Content, area: str) -> str:
    return content.text("area_elsewhere") if area == content.meta.default_area else content.areas[area].name
