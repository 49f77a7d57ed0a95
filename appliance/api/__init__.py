"""The REST API (FastAPI on uvicorn) served by the appliance, with its authentication."""
