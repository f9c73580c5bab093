"""The drop server (design §5): FastAPI on uvicorn, requests signed by enrolled devices."""
