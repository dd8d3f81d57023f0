"""The web edge: the pages, the widget bundle, the locale tables and the static files."""
