"""The organisation results packs: one PDF per NHS trust and Welsh health board."""

from naome_report.publish.packs.build import PRELOAD, build_packs

__all__ = ["PRELOAD", "build_packs"]
