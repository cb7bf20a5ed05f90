# Copyright: (c) 2026, winbits.bits contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet compliance report: built from an assessment, written in every format.

- build: the report data and writing the set of files (build_report, write_reports);
- formats: JSON and CSV; junit: JUnit XML; html and text: the HTML page and its wording; templates/;
- host_results: the per-host result files of sliced runs, written and read back for aggregation.

Internal to winbits.bits: not a public API, and it may change in any release. Controller-only code
(plugin_utils): it never runs on a Windows host.
"""
