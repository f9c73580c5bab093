"""The drop server (docs/server.md): FastAPI on uvicorn, requests signed by enrolled devices."""
