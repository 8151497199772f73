"""What the image browser tests check on a task page that shows a conversation's image
(frontend/src/shared/ConversationImage.jsx, served by humaneval.page_images): tiny real PNGs to put in a study,
every request the page makes (none may leave the task server's origin), the image as shown and as fetched,
and its zoom dialog worked by mouse and keyboard."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.axe import axe_violations

SERVED_URL = re.compile(r"/images/[0-9a-f]{32}\.png")  # the name humaneval.page_images.PageImages gives, as fetched


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour with a dark top-left quarter (so a screenshot shows which way up it is)."""
    dark = bytes(c // 3 for c in rgb)
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(width):
            row += dark if (x < width // 2 and y < height // 2) else bytes(rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@dataclass
class NetworkLog:
    """Every request the page makes (and the websockets it opens), with the responses to them."""

    requests: list[str] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, page: Any) -> "NetworkLog":
        log = cls()
        page.on("request", lambda request: log.requests.append(request.url))
        page.on("websocket", lambda socket: log.requests.append(socket.url))
        page.on("response", lambda response: log.responses.__setitem__(response.url, response))
        return log

    def elsewhere(self, page_url: str) -> list[str]:
        """The requests that went anywhere but the page's own server (a websocket to it counts as its own)."""
        host = urlsplit(page_url).netloc
        return [url for url in self.requests
                if urlsplit(url).netloc != host or urlsplit(url).scheme not in ("http", "https", "ws", "wss")]


def check_image_shown(page: Any, log: NetworkLog, figure: str, alt: str, size: tuple[int, int],
                      sent: bytes) -> Any:
    """The figure `figure` shows a loaded image named `alt`, of this size, within the page's width and at most
    240 px high, fetched from the page's own server (200, image/png) as exactly the bytes the study gave.
    Returns the figure."""
    shown = page.get_by_test_id(figure)
    image = shown.get_by_test_id("image-open").locator("img")  # (a button's content has no role of its own)
    image.wait_for(timeout=10_000)
    assert image.get_attribute("alt") == alt
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000)
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == list(size)
    box = image.bounding_box()
    assert box["height"] <= 240.5 and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    url = image.evaluate("img => img.currentSrc")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    assert url.startswith(origin + "/") and SERVED_URL.fullmatch(urlsplit(url).path), url
    assert url in log.requests
    response = log.responses[url]
    assert response.status == 200 and response.header_value("content-type") == "image/png"
    assert response.header_value("x-content-type-options") == "nosniff"  # router_preload: never sniffed into a page
    assert response.body() == sent
    return shown


def check_zoom(page: Any, shown: Any, alt: str, size: tuple[int, int]) -> None:
    """A click on the image opens it in a modal dialog, larger than the thumbnail and within the window, with no
    serious accessibility problem; Escape closes it and the focus is back on the image's button; by keyboard,
    Enter opens it and its Close button closes it."""
    opener = shown.get_by_role("button", name=f"Enlarge image: {alt}", exact=True)
    dialog = shown.get_by_role("dialog", name=alt, exact=True)
    assert not dialog.is_visible()
    opener.click()
    dialog.wait_for(timeout=5_000)
    full = dialog.get_by_role("img", name=alt, exact=True)
    assert full.evaluate("img => [img.naturalWidth, img.naturalHeight]") == list(size)
    # the picture as drawn: scaled (object-fit: contain) to the largest size its box allows
    drawn = full.evaluate("""img => { const r = img.getBoundingClientRect();
        return Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight) * img.naturalWidth; }""")
    assert drawn > opener.locator("img").bounding_box()["width"] + 20  # bigger than the thumbnail
    full_box, viewport = full.bounding_box(), page.viewport_size
    assert full_box["x"] >= 0 and full_box["x"] + full_box["width"] <= viewport["width"]
    assert full_box["y"] >= 0 and full_box["y"] + full_box["height"] <= viewport["height"]
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Enlarge image: {alt}"
    page.keyboard.press("Enter")
    dialog.wait_for(timeout=5_000)
    dialog.get_by_role("button", name="Close").click()
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Enlarge image: {alt}"
