"""Charts, notebook execution and export: HTML, Word and PDF."""
