"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi skm ..."""
from skm import create_app

app = create_app()
