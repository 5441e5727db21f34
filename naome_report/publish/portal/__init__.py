"""The interactive results portal: a static, self-contained site built from the published results."""

from naome_report.publish.portal.bundle import bundle_outputs
from naome_report.publish.portal.site import build_portal, main

__all__ = ["build_portal", "bundle_outputs", "main"]
