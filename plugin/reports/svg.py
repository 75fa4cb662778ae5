"""Charts as inline SVG, drawn here on the server: no script, no CDN, nothing to load,
so the page reads the same on a phone, in a mail client's preview or printed.

Every chart scales to its container (viewBox, width 100%); text is escaped; each
shape has a <title> so a long label cut short is still readable on hover.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 340
BLUE, TEAL, GREY = "#2563eb", "#0d9488", "#9ca3af"
SATISFACTION = ("#16a34a", "#f59e0b", "#dc2626")     # 满意, 一般, 不满意


def _cut(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _svg(height: float, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg viewBox="0 0 {WIDTH} {height:g}" width="100%" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(body) + "</svg>")


def hbars(rows: Sequence[tuple[str, float, str]], label: str, color: str = BLUE) -> Markup:
    """One bar per row (label above it, the shown value at its end)."""
    if not rows:
        return _svg(24, label, ['<text x="0" y="16" font-size="12" fill="#6b7280">—</text>'])
    top = max(v for _, v, _ in rows) or 1
    body, y = [], 0
    for name, value, shown in rows:
        w = max(2.0, (WIDTH - 70) * value / top)
        body.append(f'<g><title>{escape(name)}: {escape(shown)}</title>'
                    f'<text x="0" y="{y + 12}" font-size="12" fill="#374151">{escape(_cut(name))}</text>'
                    f'<rect x="0" y="{y + 17}" width="{w:.1f}" height="12" rx="2" fill="{color}"/>'
                    f'<text x="{w + 6:.1f}" y="{y + 27}" font-size="11" fill="#111827">{escape(shown)}</text></g>')
        y += 36
    return _svg(y, label, body)


def stacked(parts: Sequence[tuple[str, float]], label: str,
            colors: Sequence[str] = SATISFACTION) -> Markup:
    """One bar split by share, with a legend under it."""
    total = sum(v for _, v in parts)
    body, x = [], 0.0
    if not total:
        body.append(f'<rect x="0" y="0" width="{WIDTH}" height="22" rx="3" fill="#e5e7eb"/>')
    for (name, value), color in zip(parts, colors, strict=False):
        w = WIDTH * value / total if total else 0
        if w:
            body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{color}">'
                        f'<title>{escape(name)}: {value:g}</title></rect>')
        x += w
    for i, ((name, value), color) in enumerate(zip(parts, colors, strict=False)):
        share = f"{100 * value / total:.0f}%" if total else "—"
        lx, ly = (i % 2) * 170, 42 + (i // 2) * 20
        body.append(f'<rect x="{lx}" y="{ly - 10}" width="10" height="10" fill="{color}"/>'
                    f'<text x="{lx + 14}" y="{ly}" font-size="12" fill="#374151">'
                    f'{escape(name)} {value:g} ({share})</text>')
    return _svg(42 + ((len(parts) + 1) // 2) * 20, label, body)


def trend(points: Sequence[tuple[str, int, float | None]], label: str) -> Markup:
    """Tickets per day/week as bars; response-limit attainment (0-100%) as a line."""
    h, base, left = 190, 160, 28
    if not points:
        return hbars([], label)
    top = max(n for _, n, _ in points) or 1
    step = (WIDTH - left) / len(points)
    bar = max(1.0, step * 0.7)
    body = [f'<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="{GREY}"/>',
            f'<text x="0" y="14" font-size="10" fill="#6b7280">{top}</text>',
            f'<text x="0" y="{base}" font-size="10" fill="#6b7280">0</text>']
    line = []
    every = max(1, round(len(points) / 6))
    for i, (key, n, rate) in enumerate(points):
        x = left + i * step
        bh = (base - 10) * n / top
        body.append(f'<rect x="{x:.1f}" y="{base - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                    f'fill="{BLUE}" opacity="0.8"><title>{escape(key)}: {n}</title></rect>')
        if rate is not None:
            line.append(f"{x + bar / 2:.1f},{base - (base - 10) * rate:.1f}")
        if i % every == 0:
            body.append(f'<text x="{x:.1f}" y="{base + 14}" font-size="10" fill="#6b7280">'
                        f'{escape(key[5:])}</text>')
    if len(line) > 1:
        body.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{TEAL}" stroke-width="2"/>')
    body.append(f'<rect x="{left}" y="{h - 12}" width="10" height="10" fill="{BLUE}"/>'
                f'<text x="{left + 14}" y="{h - 3}" font-size="11" fill="#374151">工单数 tickets</text>'
                f'<line x1="{left + 120}" y1="{h - 7}" x2="{left + 138}" y2="{h - 7}" stroke="{TEAL}" '
                f'stroke-width="2"/><text x="{left + 142}" y="{h - 3}" font-size="11" fill="#374151">'
                f'响应达成率 response %</text>')
    return _svg(h, label, body)
