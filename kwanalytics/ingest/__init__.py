"""Raw exports to validated, stored tables: readers, value parsing, validation, the pipeline and its report."""
