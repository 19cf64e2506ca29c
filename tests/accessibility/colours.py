"""Contrast ratios as WCAG 2.1 defines them, of CSS colours as browsers compute them."""

from __future__ import annotations


def _rgb(css: str) -> tuple[float, float, float]:
    values = css[css.index("(") + 1 : css.index(")")].split(",")
    return tuple(float(v) / 255 for v in values[:3])


def _luminance(css: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(css))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
