"""Stored items (`stored`), request bodies (`requests`) and response allow-lists (`responses`)."""
