"""The funnels' shared backgrounds: drawn once, placed under each pack's frame where weasyprint laid it out."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from weasyprint import HTML

from packs_helpers import BuiltPack
from naome_report.publish.packs.backgrounds import BackgroundPlacer, BackgroundsError, draw_backgrounds
from naome_report.publish.packs.funnels import FunnelAsset

RED, BLUE = (255, 0, 0), (0, 0, 255)
NHS_BLUE = (0, 94, 184)  # the funnels' limit curves (#005EB8)


def _asset(key: str, width: float, height: float) -> FunnelAsset:
    return FunnelAsset(key, f"{key}.svg", "", 50.0, "", "percentage", width, height)


def _solid_svg(folder: Path, key: str, width: int, height: int) -> None:
    (folder / f"{key}.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="rgb{RED}"/></svg>')


def _page_with_frame(asset: FunnelAsset, left: int, top: int, width: int, extra: str = "") -> str:
    """A page with the asset's frame at a known place (CSS px), as a pack lays one out."""
    return (f'<html><head><style>@page {{ size: 600px 400px; margin: 0 }} body {{ margin: 0 }}'
            f'.f {{ position: absolute; left: {left}px; top: {top}px; width: {width}px }}'
            f'.f img {{ display: block; width: 100% }} .c {{ position: absolute; right: 0; bottom: 0 }}</style></head>'
            f'<body><div class="f"><img id="{asset.anchor}" src="{asset.frame_src}" alt="a chart"/>'
            f'<span class="c" id="{asset.corner}"></span>{extra}</div></body></html>')


def _placed(tmp_path: Path, html: str, placer: BackgroundPlacer) -> tuple[Path, int]:
    document = HTML(string=html).render()
    target = tmp_path / "placed.pdf"
    placed = placer.place(document.write_pdf(uncompressed_pdf=True), [p.anchors for p in document.pages], target)
    return target, placed


def _raster(pdf: Path, page: int = 1, dpi: int = 72) -> np.ndarray:
    """A page as RGB pixels (pdftoppm): at 72 dpi one pixel is one point, 0.75 CSS px."""
    png = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(pdf)],
                         check=True, capture_output=True).stdout
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _box(pixels: np.ndarray, colour: tuple[int, int, int]) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.all(pixels == colour, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_a_background_fills_exactly_the_rectangle_of_its_frame(tmp_path: Path) -> None:
    _solid_svg(tmp_path, "demo", 100, 50)
    asset = _asset("demo", 100, 50)
    backgrounds = draw_backgrounds({"demo": (asset.src, 100, 50)}, tmp_path.as_uri() + "/")
    target, placed = _placed(tmp_path, _page_with_frame(asset, left=120, top=80, width=200), BackgroundPlacer(backgrounds))
    assert placed == 1
    # The frame is 200 x 100 CSS px at (120, 80): in points (72 dpi pixels) x 90-240, y 60-135.
    left, top, right, bottom = _box(_raster(target), RED)
    assert abs(left - 90) <= 1 and abs(top - 60) <= 1 and abs(right - 240) <= 1 and abs(bottom - 135) <= 1


def test_the_page_is_drawn_over_the_background_which_is_an_artifact(tmp_path: Path) -> None:
    _solid_svg(tmp_path, "demo", 100, 50)
    asset = _asset("demo", 100, 50)
    backgrounds = draw_backgrounds({"demo": (asset.src, 100, 50)}, tmp_path.as_uri() + "/")
    ring = f'<span style="position: absolute; left: 90px; top: 40px; width: 20px; height: 20px; background: rgb{BLUE}"></span>'
    target, _ = _placed(tmp_path, _page_with_frame(asset, 120, 80, 200, extra=ring), BackgroundPlacer(backgrounds))
    pixels = _raster(target, dpi=96)  # one pixel per CSS px
    assert tuple(pixels[80 + 50, 120 + 100]) == BLUE  # the page's own mark, over the background
    assert tuple(pixels[80 + 10, 120 + 10]) == RED
    with pikepdf.open(target) as pdf:
        operators = [str(op) for _, op in pikepdf.parse_content_stream(pdf.pages[0])]
        do = operators.index("Do")
        assert operators[0] == "BMC" and operators.index("EMC") > do  # drawn first, inside an /Artifact sequence
        first = pikepdf.parse_content_stream(pdf.pages[0])[0].operands[0]
        assert first == pikepdf.Name.Artifact


def test_a_frame_without_its_background_or_corner_stops_the_pack(tmp_path: Path) -> None:
    _solid_svg(tmp_path, "demo", 100, 50)
    backgrounds = draw_backgrounds({"demo": ("demo.svg", 100, 50)}, tmp_path.as_uri() + "/")
    placer = BackgroundPlacer(backgrounds)
    with pytest.raises(BackgroundsError, match="no background was drawn"):
        _placed(tmp_path, _page_with_frame(_asset("other", 100, 50), 10, 10, 200), placer)
    asset = _asset("demo", 100, 50)
    no_corner = _page_with_frame(asset, 10, 10, 200).replace(f'id="{asset.corner}"', "")
    with pytest.raises(BackgroundsError, match="corner is missing"):
        _placed(tmp_path, no_corner, placer)


def test_every_funnel_of_a_pack_has_its_background_drawn(packs: dict[str, BuiltPack]) -> None:
    pack = packs["english"]
    shared = sorted((pack.path.parent / "_shared").glob("funnel_*.svg"))
    with pikepdf.open(pack.path) as pdf:
        drawn: dict[tuple[int, int], int] = {}  # form object -> page it is drawn on
        for number, page in enumerate(pdf.pages, 1):
            xobjects = page.Resources.get("/XObject") or {}
            for op in pikepdf.parse_content_stream(page):
                if str(op.operator) == "Do" and xobjects[op.operands[0]].get("/Subtype") == "/Form":
                    drawn[xobjects[op.operands[0]].objgen] = number
    assert len(drawn) == len(shared)  # each background once, none left out
    # and they show: the limit curves' blue is on each page that has funnels
    for number in sorted(set(drawn.values())):
        curves = np.abs(_raster(pack.path, number).astype(int) - NHS_BLUE).max(axis=2) < 40
        assert curves.sum() > 200 * list(drawn.values()).count(number)


def test_a_pack_is_the_same_bytes_whichever_folder_it_is_built_in(results, chosen: dict[str, str], tmp_path: Path) -> None:
    from naome_report.config import default_config
    from naome_report.publish.packs import build_packs
    from naome_report.registry import default_registry

    code = chosen["english"]
    built = [build_packs(results, default_registry(), default_config(), tmp_path / folder, org_codes=[code], workers=1)[0]
             for folder in ("one", "two/deeper")]
    assert built[0].read_bytes() == built[1].read_bytes()
