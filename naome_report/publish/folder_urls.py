"""weasyprint resources addressed relative to the folder being printed, so a PDF is the same whatever the folder.

weasyprint names each image after its URL, and writes links as absolute URLs: with the folder's own
`file://` base URL, the same document printed in two output folders gave two different PDFs, and its
links named the build machine's folders. Under `RELATIVE_BASE_URL` (a scheme that URL joining leaves
alone) every relative reference stays relative: images and stylesheets are read from the folder by
`FolderFetcher`, and links to the data files stay relative to the PDF. A document printed under the address
where its folder is published (`published_base`) links there instead, and its files are still read from the
folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse, url_is_absolute

RELATIVE_BASE_URL = "naome-output:"


class FolderFetcher(URLFetcher):
    """weasyprint's URL fetcher, reading relative URLs (and those under `published_base`) from one folder."""

    def __init__(self, folder: Path | str, published_base: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder).resolve()
        self.published_base = published_base

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if self.published_base and url.startswith(self.published_base):
            url = url[len(self.published_base):]
        if not url_is_absolute(url):
            url = (self.folder / unquote(urlsplit(url).path)).as_uri()
        return super().fetch(url, headers)
