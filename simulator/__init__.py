"""A WeChat-compatible platform simulator, served under /sim/ when SIMULATOR=1."""
