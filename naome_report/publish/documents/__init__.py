"""The three national documents: State of the Nation, patient and public report, methodology supplement.

Each is a Jinja-filled Quarto/pandoc template in `reports/`, filled from the results hub, the
indicator registry and the configuration only, and rendered to HTML and a tagged A4 PDF:
`context` picks and formats the values, `figures` draws the charts, `render` fills and prints,
`stage` runs it all for the build, `readability` scores the patient report.
"""

from naome_report.publish.documents.readability import FLESCH_TARGET, body_text, flesch_reading_ease
from naome_report.publish.documents.stage import build_documents

__all__ = ["FLESCH_TARGET", "body_text", "build_documents", "flesch_reading_ease"]
