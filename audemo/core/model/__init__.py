r"""Models: names, folders, URLs, downloads, fingerprints, int8; loading."""
