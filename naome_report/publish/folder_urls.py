"""weasyprint resources addressed relative to the folder being printed, so a PDF is the same whatever the folder.

weasyprint names each image after its URL, and writes links as absolute URLs: with the folder's own
`file://` base URL, the same document printed in two output folders gave two different PDFs, and its
links named the build machine's folders. Under `RELATIVE_BASE_URL` (a scheme that URL joining leaves
alone) every relative reference stays relative: images and stylesheets are read from the folder by
`FolderFetcher`, and links to the data files stay relative to the PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse, url_is_absolute

RELATIVE_BASE_URL = "naome-output:"


class FolderFetcher(URLFetcher):
    """weasyprint's URL fetcher, reading relative URLs from one folder."""

    def __init__(self, folder: Path | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder).resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url_is_absolute(url):
            url = (self.folder / unquote(urlsplit(url).path)).as_uri()
        return super().fetch(url, headers)
