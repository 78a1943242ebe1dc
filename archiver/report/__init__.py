"""The citation health report.

- `model`        the read model (`Report`, `Entry`), typed, and the JSON contract (`Report.to_json`)
- `build`        reading it from the store
- `words`        the words of a status, the sentence that explains it, the headline
- `markdown`, `html`, `robustlinks`: pure renderers of a `Report`
"""

from archiver.report.build import build_entry, build_report
from archiver.report.html import diff_html, render_html
from archiver.report.markdown import render_markdown
from archiver.report.model import Entry, Report
from archiver.report.robustlinks import render_robustlinks

__all__ = [
    "Entry",
    "Report",
    "build_entry",
    "build_report",
    "diff_html",
    "render_html",
    "render_markdown",
    "render_robustlinks",
]
