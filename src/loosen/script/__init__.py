"""The session script: its model, reading it from TOML, checking every field against its limits,
overrides from outside (`--set`), durations and spoken-text templates, and the bundled library.
"""
