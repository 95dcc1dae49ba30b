"""The README's shell examples paste into any shell: zsh (macOS's default) refuses an unquoted
``?`` as a glob without matches (``no matches found: localhost:8083/connectors?expand=status``)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"(?P<before>.)(?P<url>(?:https?://)?(?:localhost|127\.0\.0\.1)(?::\d+)?/[^\s'\"]*)")


def _curl_urls(text: str) -> list[tuple[str, str]]:
    return [
        (match["before"], match["url"])
        for line in text.splitlines()
        if line.lstrip().startswith("curl ") or " curl " in line
        for match in URL.finditer(line)
    ]


def test_every_curl_example_quotes_its_url() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    urls = [(doc.name, before, url) for doc in documents for before, url in _curl_urls(doc.read_text())]
    assert any("?" in url for _, _, url in urls), "the README shows a URL with a query string"
    unquoted = [f"{name}: {url}" for name, before, url in urls if before not in "'\""]
    assert unquoted == []


def test_the_check_sees_an_unquoted_url() -> None:
    assert _curl_urls("curl -s localhost:8083/connectors?expand=status") == [
        (" ", "localhost:8083/connectors?expand=status")
    ]
