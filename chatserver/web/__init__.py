"""The web edge: the Starlette app, the socket connection, the HTTP API, pages and static assets."""
