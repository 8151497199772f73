"""The parts every HTML report is built from (page frame, tables, SVG charts) and the report folder writer."""
